// The carbonkg query page: editor, query library, results table, downloads, errors.
// Every query goes through the service's endpoints (POST /sparql, GET /queries/...).
// The editor is CodeMirror 6 loaded through the page's import map; without it, the text area works.

const config = JSON.parse(document.getElementById("page-config").textContent);
const library = JSON.parse(document.getElementById("library-data").textContent);
const $ = (id) => document.getElementById(id);
const ROOT = config.root || ""; // the path the service is served under, usually empty

const ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9";
const MAX_LINK = 8000; // longer download URLs are sent as a POST form instead
const FORMATS = {
  solutions: [["json", "JSON"], ["xml", "XML"], ["csv", "CSV"], ["tsv", "TSV"]],
  boolean: [["json", "JSON"], ["xml", "XML"]],
  graph: [["turtle", "Turtle"], ["ntriples", "N-Triples"], ["jsonld", "JSON-LD"], ["rdfxml", "RDF/XML"]],
};
const EXTENSIONS = { json: "srj", xml: "srx", csv: "csv", tsv: "tsv", turtle: "ttl", ntriples: "nt", jsonld: "jsonld", rdfxml: "rdf" };
const STARTER = $("query").value;

// ------------------------------------------------------------------------------------ editors

function textAreaEditor(area) {
  return {
    kind: "textarea",
    getText: () => area.value,
    setText(text) { area.value = text; },
    focus: () => area.focus(),
    markError(line, column) {
      const offset = offsetOf(area.value, line, column);
      area.focus();
      area.setSelectionRange(offset, Math.min(offset + 1, area.value.length));
    },
    clearError() {},
  };
}

function offsetOf(text, line, column) {
  const lines = text.split("\n");
  let offset = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1;
  return Math.min(offset + Math.max(column - 1, 0), text.length);
}

let editor = textAreaEditor($("query"));

function editorStatus(text, unavailable) {
  const status = $("editor-status");
  status.textContent = text;
  status.classList.toggle("unavailable", Boolean(unavailable));
}

async function loadCodeMirror() {
  if (!config.editor) return; // the server already said why (no modules installed)
  try {
    const [view, state, language, commands, autocomplete, search, highlight, mode] = await Promise.all([
      import("@codemirror/view"),
      import("@codemirror/state"),
      import("@codemirror/language"),
      import("@codemirror/commands"),
      import("@codemirror/autocomplete"),
      import("@codemirror/search"),
      import("@lezer/highlight"),
      import("@codemirror/legacy-modes/mode/sparql.js"),
    ]);
    editor = codeMirror(view, state, language, commands, autocomplete, search, highlight, mode);
    editorStatus("SPARQL editor (CodeMirror 6): Ctrl+Space completes keywords and prefixes", false);
  } catch (error) {
    console.error("the SPARQL editor could not be loaded", error);
    editorStatus("The SPARQL editor is unavailable (its modules did not load: " + (error && error.message || error) +
      "). This is a plain text area; queries still run.", true);
    document.body.classList.add("editor-unavailable");
  }
}

const KEYWORDS = ("SELECT DISTINCT REDUCED CONSTRUCT DESCRIBE ASK WHERE FROM NAMED PREFIX BASE OPTIONAL FILTER " +
  "UNION MINUS GRAPH BIND VALUES SERVICE ORDER BY ASC DESC GROUP HAVING LIMIT OFFSET AS EXISTS NOT IN " +
  "COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES DATATYPE BOUND IRI BNODE " +
  "STRLEN SUBSTR UCASE LCASE STRSTARTS STRENDS CONTAINS STRBEFORE STRAFTER CONCAT REGEX REPLACE " +
  "YEAR MONTH DAY NOW COALESCE IF isIRI isBlank isLiteral isNumeric UNDEF").split(" ");

function codeMirror(view, state, language, commands, autocomplete, search, highlight, mode) {
  const { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection, Decoration } = view;
  const { EditorState, StateEffect, StateField } = state;
  const area = $("query");

  const setError = StateEffect.define();
  const errorLine = StateField.define({
    create: () => Decoration.none,
    update(marks, tr) {
      if (tr.docChanged) marks = Decoration.none;
      for (const effect of tr.effects) {
        if (effect.is(setError)) {
          marks = effect.value === null ? Decoration.none
            : Decoration.set([Decoration.line({ class: "cm-errorLine" }).range(effect.value)]);
        }
      }
      return marks;
    },
    provide: (field) => EditorView.decorations.from(field),
  });

  const options = [
    ...KEYWORDS.map((label) => ({ label, type: "keyword" })),
    ...Object.entries(config.prefixes).flatMap(([name, iri]) => [
      { label: `${name}:`, type: "namespace", detail: iri },
      { label: `PREFIX ${name}: <${iri}>`, type: "text", detail: "declaration" },
    ]),
  ];

  const runKey = { key: "Mod-Enter", run: () => { runEditorQuery(); return true; } };
  const cm = new EditorView({
    parent: $("editor-host"),
    state: EditorState.create({
      doc: area.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        commands.history(),
        language.bracketMatching(),
        language.indentOnInput(),
        autocomplete.closeBrackets(),
        autocomplete.autocompletion({ override: [autocomplete.completeFromList(options)] }),
        search.highlightSelectionMatches(),
        language.StreamLanguage.define(mode.sparql),
        language.syntaxHighlighting(highlight.classHighlighter),
        EditorView.lineWrapping,
        errorLine,
        keymap.of([
          runKey,
          ...autocomplete.closeBracketsKeymap,
          ...commands.defaultKeymap,
          ...commands.historyKeymap,
          ...search.searchKeymap,
          ...autocomplete.completionKeymap,
        ]),
        EditorView.contentAttributes.of({ "aria-label": "SPARQL query", "data-testid": "sparql-editor" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) area.value = update.state.doc.toString();
        }),
      ],
    }),
  });
  area.hidden = true;
  document.body.classList.add("editor-ready");

  return {
    kind: "codemirror",
    view: cm,
    getText: () => cm.state.doc.toString(),
    setText(text) {
      cm.dispatch({ changes: { from: 0, to: cm.state.doc.length, insert: text }, selection: { anchor: 0 } });
      cm.scrollDOM.scrollTop = 0;
    },
    focus: () => cm.focus(),
    markError(line, column) {
      const doc = cm.state.doc;
      const row = doc.line(Math.min(Math.max(line, 1), doc.lines));
      const pos = Math.min(row.from + Math.max(column - 1, 0), row.to);
      cm.dispatch({ effects: setError.of(row.from), selection: { anchor: pos }, scrollIntoView: true });
      cm.focus();
    },
    clearError() { cm.dispatch({ effects: setError.of(null) }); },
  };
}

// ------------------------------------------------------------------------------------ terms

function declaredPrefixes(text) {
  const found = {};
  const pattern = /PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>\s]*)>/gi;
  for (const m of text.matchAll(pattern)) found[m[1] || ""] = m[2];
  return found;
}

function localHref(iri) {
  return iri.startsWith(config.base) ? ROOT + "/" + iri.slice(config.base.length) : null;
}

function abbreviate(iri, prefixes) {
  let best = null;
  for (const [name, ns] of Object.entries(prefixes)) {
    if (ns && iri.startsWith(ns) && (!best || ns.length > best[1].length)) {
      const local = iri.slice(ns.length);
      if (/^[\w-]*$/.test(local)) best = [name, ns];
    }
  }
  if (best) return `${best[0]}:${iri.slice(best[1].length)}`;
  // other IRIs under the public base: their path, which is also where they link to
  return iri.startsWith(config.base) && iri.length > config.base.length ? iri.slice(config.base.length) : iri;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const XSD = "http://www.w3.org/2001/XMLSchema#";

function termNode(term, prefixes) {
  if (!term) return el("span", { class: "unbound" });
  if (term.type === "uri") {
    const local = localHref(term.value);
    return el("a", {
      href: local || term.value,
      class: local ? "iri local" : "iri external",
      title: term.value,
      rel: local ? null : "noopener noreferrer",
    }, abbreviate(term.value, prefixes));
  }
  if (term.type === "bnode") return el("span", { class: "bnode" }, "_:" + term.value);
  if (term.type === "triple") {
    const v = term.value;
    return el("span", { class: "quoted" }, "<< ", termNode(v.subject, prefixes), " ", termNode(v.predicate, prefixes),
      " ", termNode(v.object, prefixes), " >>");
  }
  const literal = el("span", { class: "literal" }, term.value);
  const wrap = term.value.length < 40 ? "term-short" : null; // a short value stays on one line with its type
  const lang = term["xml:lang"];
  if (lang) return el("span", { class: wrap }, literal, el("span", { class: "lang" }, "@" + lang));
  if (term.datatype && term.datatype !== XSD + "string") {
    return el("span", { class: wrap }, literal,
      el("span", { class: "datatype", title: term.datatype }, "^^" + abbreviate(term.datatype, prefixes)));
  }
  return literal;
}

// N-Triples (what CONSTRUCT and DESCRIBE answer to this page) into SPARQL JSON-like terms
const NT_TERM = /^(?:<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z][A-Za-z0-9-]*)|\^\^<([^>]*)>)?)\s*/;

function unescapeNT(text) {
  return text.replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/g, (_, u4, u8, c) => {
    if (u4 || u8) return String.fromCodePoint(parseInt(u4 || u8, 16));
    return { t: "\t", b: "\b", n: "\n", r: "\r", f: "\f", '"': '"', "'": "'", "\\": "\\" }[c] ?? c;
  });
}

function parseNTriples(text) {
  const triples = [];
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const terms = [];
    while (terms.length < 3) {
      const m = NT_TERM.exec(line);
      if (!m) break;
      if (m[1] !== undefined) terms.push({ type: "uri", value: unescapeNT(m[1]) });
      else if (m[2] !== undefined) terms.push({ type: "bnode", value: m[2] });
      else {
        const term = { type: "literal", value: unescapeNT(m[3]) };
        if (m[4]) term["xml:lang"] = m[4];
        if (m[5]) term.datatype = m[5];
        terms.push(term);
      }
      line = line.slice(m[0].length);
    }
    if (terms.length === 3) triples.push(terms);
  }
  return triples;
}

// ------------------------------------------------------------------------------------ outcome

function clearOutcome() {
  $("outcome").hidden = true;
  for (const id of ["problem", "status", "truncated", "downloads"]) {
    $(id).hidden = true;
    $(id).replaceChildren();
  }
  $("results").replaceChildren();
  editor.clearError();
  for (const input of document.querySelectorAll("#params-fields input")) input.classList.remove("invalid");
}

function showProblem(problem, status) {
  const box = $("problem");
  const where = problem.line ? `line ${problem.line}, column ${problem.column}` : null;
  box.replaceChildren(
    el("div", { class: "problem-title" }, problem.title || "Error", el("span", { class: "code" }, ` ${status}`)),
    el("p", { class: "problem-detail" }, problem.detail || ""),
  );
  if (where) {
    box.append(el("p", { class: "problem-where" }, "At ", el("strong", {}, where)));
    const text = editor.getText().split("\n")[problem.line - 1];
    if (text !== undefined) {
      const caret = " ".repeat(Math.max(problem.column - 1, 0)) + "^";
      box.append(el("pre", { class: "problem-snippet" }, text + "\n" + caret));
    }
    editor.markError(problem.line, problem.column);
  }
  if (problem.parameter) {
    box.append(el("p", { class: "problem-where" }, "Parameter ", el("strong", {}, problem.parameter)));
    const input = document.querySelector(`#params-fields input[name="${CSS.escape(problem.parameter)}"]`);
    if (input) { input.classList.add("invalid"); input.focus(); }
  }
  if (problem.type) box.append(el("p", { class: "problem-type" }, el("code", {}, problem.type)));
  box.hidden = false;
  $("outcome").hidden = false;
}

function resultHeaders(response) {
  return {
    count: response.headers.get("Carbonkg-Result-Count"),
    limit: response.headers.get("Carbonkg-Result-Limit"),
    truncated: response.headers.get("Carbonkg-Result-Truncated") === "true",
  };
}

function showStatus(kind, shown, info, millis) {
  const what = kind === "graph" ? "triples" : kind === "boolean" ? "answer" : "results";
  const status = $("status");
  status.replaceChildren(
    el("strong", { id: "result-count" }, kind === "boolean" ? "ASK" : `${shown} ${what}`),
    ` · ${Math.round(millis)} ms · `,
    el("span", { class: "headers", title: "response headers" },
      el("code", {}, `Carbonkg-Result-Count: ${info.count ?? "?"}`), " ",
      el("code", {}, `Carbonkg-Result-Limit: ${info.limit ?? config.maxResults}`),
      info.truncated ? " " : null,
      info.truncated ? el("code", { class: "warn" }, "Carbonkg-Result-Truncated: true") : null),
  );
  status.hidden = false;
  $("outcome").hidden = false;
  if (info.truncated) {
    const box = $("truncated");
    box.replaceChildren(
      el("strong", {}, "Truncated. "),
      `This answer stops at the server's limit of ${info.limit} ${what}: the query has more. `,
      "Use ORDER BY with LIMIT and OFFSET to page through the rest.",
    );
    box.hidden = false;
  }
}

function downloadHref(text, format) {
  return `${ROOT}/sparql?query=${encodeURIComponent(text)}&format=${format}`;
}

function showDownloads(text, kind) {
  const box = $("downloads");
  box.replaceChildren(el("span", { class: "label" }, "Download:"));
  for (const [format, label] of FORMATS[kind]) {
    const href = downloadHref(text, format);
    if (href.length <= MAX_LINK) {
      box.append(el("a", { href, download: `results.${EXTENSIONS[format]}`, "data-format": format, class: "download" }, label));
    } else {
      const button = el("button", { type: "button", class: "download quiet", "data-format": format }, label);
      button.addEventListener("click", () => postDownload(text, format));
      box.append(button);
    }
  }
  box.hidden = false;
}

function postDownload(text, format) {
  const form = el("form", { method: "post", action: ROOT + "/sparql", target: "_blank", hidden: true },
    el("input", { type: "hidden", name: "query" }), el("input", { type: "hidden", name: "format", value: format }));
  form.elements.query.value = text;
  document.body.append(form);
  form.submit();
  form.remove();
}

const MAX_ROWS_SHOWN = 2000; // a longer answer is shown in part; its downloads have every row

function renderTable(head, rows, prefixes) {
  const table = $("results");
  const hidden = rows.length - MAX_ROWS_SHOWN;
  if (hidden > 0) rows = rows.slice(0, MAX_ROWS_SHOWN);
  const thead = el("thead", {}, el("tr", {}, el("th", { class: "row-number" }, "#"), ...head.map((h) => el("th", {}, h))));
  const tbody = el("tbody");
  rows.forEach((cells, i) => {
    tbody.append(el("tr", {}, el("td", { class: "row-number" }, i + 1), ...cells.map((term) => el("td", {}, termNode(term, prefixes)))));
  });
  table.replaceChildren(thead, tbody);
  if (hidden > 0) {
    table.append(el("tfoot", {}, el("tr", {}, el("td", { colspan: head.length + 1, class: "more" },
      `The table shows the first ${MAX_ROWS_SHOWN} rows; ${hidden} more are in the downloads.`))));
  }
}

// ------------------------------------------------------------------------------------ running

let running = null;

async function runEditorQuery() {
  const text = editor.getText();
  if (running) running.abort();
  const controller = new AbortController();
  running = controller;
  clearOutcome();
  const button = $("run");
  button.disabled = true;
  button.textContent = "Running…";
  const started = performance.now();
  try {
    const response = await fetch(ROOT + "/sparql", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: ACCEPT },
      body: new URLSearchParams({ query: text }),
      signal: controller.signal,
    });
    await showResponse(response, text, started);
  } catch (error) {
    if (error.name !== "AbortError") showProblem({ title: "The request failed", detail: String(error) }, "");
  } finally {
    if (running === controller) {
      running = null;
      button.disabled = false;
      button.textContent = "Run query";
    }
  }
}

async function readProblem(response) {
  const body = await response.text();
  try {
    return JSON.parse(body);
  } catch {
    return { title: `${response.status} ${response.statusText}`, detail: body.slice(0, 500) };
  }
}

async function showResponse(response, text, started) {
  if (!response.ok) {
    showProblem(await readProblem(response), response.status);
    return;
  }
  const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
  const info = resultHeaders(response);
  const prefixes = { ...config.displayPrefixes, ...declaredPrefixes(text) };
  if (type === "application/sparql-results+json") {
    const data = await response.json();
    const millis = performance.now() - started;
    if ("boolean" in data) {
      $("results").replaceChildren(el("tbody", {}, el("tr", {}, el("td", { class: "boolean" }, data.boolean ? "true" : "false"))));
      showStatus("boolean", 1, info, millis);
      showDownloads(text, "boolean");
      return;
    }
    const vars = data.head.vars || [];
    const rows = data.results.bindings.map((b) => vars.map((v) => b[v]));
    renderTable(vars, rows, prefixes);
    showStatus("solutions", rows.length, info, millis);
    showDownloads(text, "solutions");
  } else if (type === "application/n-triples") {
    const triples = parseNTriples(await response.text());
    renderTable(["subject", "predicate", "object"], triples, prefixes);
    showStatus("graph", triples.length, info, performance.now() - started);
    showDownloads(text, "graph");
  } else {
    showProblem({ title: "Unexpected answer", detail: `the server answered ${type || "no content type"}` }, response.status);
  }
}

// ------------------------------------------------------------------------------------ library

let selected = null;

function paramsOf(form) {
  const params = new URLSearchParams();
  for (const input of form.querySelectorAll("input[name]")) {
    if (input.value.trim() !== "") params.append(input.name, input.value.trim());
  }
  return params;
}

function selectExample(name) {
  const query = library.find((q) => q.name === name);
  if (!query) return;
  selected = query;
  for (const link of document.querySelectorAll("#library-list .example")) {
    link.classList.toggle("selected", link.dataset.name === name);
  }
  $("example-title").textContent = query.title;
  $("example-description").textContent = query.description;
  const fields = $("params-fields");
  fields.replaceChildren();
  const example = (query.examples && query.examples[0]) || {};
  for (const p of query.parameters) {
    const id = `param-${p.name}`;
    const value = example[p.name] ?? p.default ?? "";
    const flag = p.required ? "required" : p.default != null ? `default ${p.default}` : "optional";
    fields.append(el("div", { class: "field" },
      el("label", { for: id }, p.name, el("span", { class: "type" }, ` ${p.type} · ${flag}`)),
      el("input", { id, name: p.name, type: "text", value, required: p.required ? "required" : null,
        placeholder: p.type, autocomplete: "off", spellcheck: "false" }),
      p.description ? el("p", { class: "help" }, p.description) : null));
  }
  if (!query.parameters.length) fields.append(el("p", { class: "muted" }, "No parameters."));
  $("example-detail").hidden = false;
  return loadExample(false);
}

// A library file starts with a header of "# @title …" comment lines, shown beside the editor
// already: the editor gets one comment line naming the query instead.
function withoutHeader(text, query) {
  if (!/^#\s*@/.test(text)) return text;
  const lines = text.split("\n");
  let i = 0;
  while (i < lines.length && (lines[i].trim() === "" || lines[i].trim().startsWith("#"))) i++;
  return `# ${query.title} (query library: ${query.name})\n` + lines.slice(i).join("\n");
}

async function loadExample(run) {
  if (!selected) return;
  const params = paramsOf($("params-form"));
  const api = `${ROOT}/queries/${encodeURIComponent(selected.name)}${params.toString() ? "?" + params : ""}`;
  $("example-api").textContent = api;
  $("example-api").href = api;
  const bound = new URLSearchParams(params);
  bound.set("format", "sparql");
  clearOutcome();
  const response = await fetch(`${ROOT}/queries/${encodeURIComponent(selected.name)}?${bound}`);
  if (!response.ok) {
    showProblem(await readProblem(response), response.status);
    return;
  }
  editor.setText(withoutHeader(await response.text(), selected));
  if (run) await runEditorQuery();
}

// ------------------------------------------------------------------------------------ wiring

$("query-form").addEventListener("submit", (event) => {
  event.preventDefault();
  runEditorQuery();
});
$("query").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    runEditorQuery();
  }
});
$("reset").addEventListener("click", () => {
  editor.setText(STARTER);
  clearOutcome();
  editor.focus();
});
for (const link of document.querySelectorAll("#library-list .example")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    selectExample(link.dataset.name);
  });
}
$("params-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadExample(false);
});
$("params-run").addEventListener("click", () => loadExample(true));

loadCodeMirror();
