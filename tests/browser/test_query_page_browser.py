"""The query page in a real headless Chromium against a real ``carbonkg serve`` over the bundled
exports: the editor loads with highlighting, an example of the query library runs and shows a
table with links, downloads answer in their format, errors show their line and column, the result
limit shows, and the page still works when the editor's modules do not load."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 60
SCREENSHOT = Path("/tmp/carbonkg-query-page.png")


def wait(browser, seconds: float = WAIT_S) -> WebDriverWait:
    return WebDriverWait(browser, seconds)


def open_page(browser, server, *, editor: bool = True) -> None:
    browser.get(server.url + "/")
    if editor:
        wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "body.editor-ready .cm-editor")))
    else:
        wait(browser).until(EC.text_to_be_present_in_element((By.ID, "editor-status"), "unavailable"))


def set_editor_text(browser, text: str) -> None:
    """Replace the editor's text through CodeMirror's own API (as a paste would)."""
    error = browser.execute_async_script(
        """
        const [text, done] = arguments;
        import("@codemirror/view").then(({EditorView}) => {
          const view = EditorView.findFromDOM(document.querySelector(".cm-editor"));
          view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}});
          done(null);
        }).catch((e) => done(String(e)));
        """,
        text,
    )
    assert error is None, error


def editor_text(browser) -> str:
    return browser.find_element(By.ID, "query").get_property("value")


def run(browser) -> None:
    browser.find_element(By.ID, "run").click()
    wait(browser).until(
        lambda b: b.find_element(By.ID, "run").is_enabled()
        and (b.find_element(By.ID, "status").is_displayed() or b.find_element(By.ID, "problem").is_displayed())
    )


def fetch(browser, href: str) -> dict:
    """GET ``href`` from the page, as following the link does: status, content type, body."""
    return browser.execute_async_script(
        """
        const [href, done] = arguments;
        fetch(href).then(async (r) => done({status: r.status, type: r.headers.get("content-type"),
                                           body: await r.text()}))
                   .catch((e) => done({status: 0, type: null, body: String(e)}));
        """,
        href,
    )


def severe_console_errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_the_editor_loads_with_syntax_highlighting_and_prefixes(browser, live_server) -> None:
    open_page(browser, live_server)
    editor = browser.find_element(By.CSS_SELECTOR, ".cm-editor")
    assert editor.is_displayed()
    assert not browser.find_element(By.ID, "query").is_displayed()  # the text area gave way
    keywords = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".cm-content .tok-keyword")]
    assert {"PREFIX", "SELECT", "WHERE"} <= {k.upper() for k in keywords}, keywords
    assert browser.find_elements(By.CSS_SELECTOR, ".cm-content .tok-variableName")
    assert browser.find_elements(By.CSS_SELECTOR, ".cm-content .tok-comment")
    colour = browser.execute_script(
        "return getComputedStyle(document.querySelector('.cm-content .tok-keyword')).color")
    plain = browser.execute_script("return getComputedStyle(document.querySelector('.cm-content')).color")
    assert colour != plain  # highlighted, not just classed
    text = editor_text(browser)
    for prefix in ("ck:", "csvw:", "prov:", "dcat:", "skos:", "rdfs:", "xsd:"):
        assert f"PREFIX {prefix}" in text
    assert "unavailable" not in browser.find_element(By.ID, "editor-status").text
    assert severe_console_errors(browser) == []


def test_an_example_query_runs_and_shows_linked_results(browser, live_server) -> None:
    open_page(browser, live_server)
    examples = browser.find_elements(By.CSS_SELECTOR, "#library-list a.example")
    assert examples, "the query library lists no example"
    first = examples[0]
    name = first.get_attribute("data-name")
    first.click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "example-detail")))
    wait(browser).until(lambda b: "VALUES (" in editor_text(b))  # the example's parameters, bound
    assert browser.find_element(By.ID, "example-title").text
    api = browser.find_element(By.ID, "example-api").get_attribute("href")
    assert urlsplit(api).path == f"/queries/{name}"
    # the editor shows the query, highlighted
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".cm-content .tok-keyword"))
    run(browser)
    problem = browser.find_element(By.ID, "problem")
    assert not problem.is_displayed(), problem.text
    rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    assert rows
    local_links = browser.find_elements(By.CSS_SELECTOR, "#results a.iri.local")
    assert local_links, "no IRI of the results links to a local page"
    for link in local_links:  # each IRI under the public base links to its local path
        iri = link.get_attribute("title")
        assert iri.startswith("https://w3id.org/carbonkg/")
        assert link.get_attribute("href") == live_server.url + "/" + iri.removeprefix("https://w3id.org/carbonkg/")
    status = browser.find_element(By.ID, "status").text
    assert f"Carbonkg-Result-Limit: {live_server.max_results}" in status
    size = browser.get_window_size()
    browser.set_window_size(1440, 1800)  # the editor and the results table in one picture
    browser.save_screenshot(str(SCREENSHOT))
    browser.set_window_size(size["width"], size["height"])

    # every result format is one link away; the CSV one answers CSV
    links = {a.get_attribute("data-format"): a.get_attribute("href")
             for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a.download")}
    assert set(links) == {"json", "xml", "csv", "tsv"}
    csv_link = links["csv"]
    parts = urlsplit(csv_link)
    assert parts.path == "/sparql" and parse_qs(parts.query)["format"] == ["csv"]
    assert parse_qs(parts.query)["query"] == [editor_text(browser)]
    answer = fetch(browser, csv_link)
    assert answer["status"] == 200
    assert answer["type"].startswith("text/csv")
    header = answer["body"].splitlines()[0].split(",")
    shown = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#results thead th")][1:]
    assert header == shown
    assert len(answer["body"].strip().splitlines()) == len(rows) + 1
    # and the library's own endpoint answers the same query
    code, headers, body = live_server.get(urlsplit(api).path + "?" + urlsplit(api).query + "&format=csv")
    assert code == 200 and headers["content-type"].startswith("text/csv")
    assert body.decode().splitlines()[0].split(",") == header


def test_the_starter_query_links_iris_to_local_pages(browser, live_server) -> None:
    open_page(browser, live_server)
    run(browser)
    first_row = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")[0]
    link = first_row.find_element(By.CSS_SELECTOR, "a.iri.local")
    assert link.get_attribute("href").startswith(live_server.url + "/id/")
    assert link.get_attribute("title").startswith("https://w3id.org/carbonkg/id/")
    # ontology terms abbreviate with the query's prefixes and link to /ontology#…
    set_editor_text(browser, "PREFIX ck: <https://w3id.org/carbonkg/ontology#>\n"
                             "SELECT DISTINCT ?type WHERE { ?s a ?type FILTER(?type = ck:ProjectListing) }")
    run(browser)
    link = browser.find_element(By.CSS_SELECTOR, "#results tbody a.iri")
    assert link.text == "ck:ProjectListing"
    assert link.get_attribute("href") == live_server.url + "/ontology#ProjectListing"


def test_a_malformed_query_shows_its_line_and_column(browser, live_server) -> None:
    open_page(browser, live_server)
    content = browser.find_element(By.CSS_SELECTOR, ".cm-content")
    content.click()
    content.send_keys(Keys.CONTROL, "a")
    content.send_keys(Keys.DELETE)
    content.send_keys("SELECT ?s", Keys.ENTER, "WHER ?s ?p ?o")  # typed as a person would
    assert "WHER ?s ?p ?o" in editor_text(browser)
    content.send_keys(Keys.CONTROL, Keys.ENTER)  # Ctrl+Enter runs
    problem = wait(browser).until(EC.visibility_of_element_located((By.ID, "problem")))
    text = problem.text
    assert "Malformed query" in text
    assert re.search(r"\bline 2, column \d+", text), text
    assert "WHER ?s ?p ?o\n" in browser.find_element(By.CSS_SELECTOR, ".problem-snippet").text + "\n"
    assert "400" in text
    assert browser.find_element(By.CSS_SELECTOR, ".cm-errorLine").text.startswith("WHER")
    assert not browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    assert not browser.find_element(By.ID, "downloads").is_displayed()


def test_the_result_limit_and_truncation_are_shown(browser, live_server) -> None:
    open_page(browser, live_server)
    set_editor_text(browser, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    run(browser)
    notice = browser.find_element(By.ID, "truncated")
    assert notice.is_displayed()
    assert "Truncated" in notice.text and str(live_server.max_results) in notice.text
    status = browser.find_element(By.ID, "status").text
    assert "Carbonkg-Result-Truncated: true" in status
    assert f"Carbonkg-Result-Count: {live_server.max_results}" in status
    assert len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == live_server.max_results


def test_a_construct_query_shows_triples_and_rdf_downloads(browser, live_server) -> None:
    open_page(browser, live_server)
    set_editor_text(browser, "PREFIX ck: <https://w3id.org/carbonkg/ontology#>\n"
                             "CONSTRUCT { ?s a ck:ProjectListing } WHERE { ?s a ck:ProjectListing } LIMIT 5")
    run(browser)
    heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#results thead th")][1:]
    assert heads == ["subject", "predicate", "object"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == 5
    links = {a.get_attribute("data-format"): a.get_attribute("href")
             for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a.download")}
    assert set(links) == {"turtle", "ntriples", "jsonld", "rdfxml"}
    expected = {"turtle": "text/turtle", "ntriples": "application/n-triples", "jsonld": "application/ld+json",
                "rdfxml": "application/rdf+xml"}
    for fmt, href in links.items():
        answer = fetch(browser, href)
        assert answer["status"] == 200 and answer["type"].startswith(expected[fmt]), (fmt, answer)
    assert len(json.loads(fetch(browser, links["jsonld"])["body"])) >= 1


def test_a_bad_library_parameter_is_named(browser, live_server) -> None:
    listed = json.loads(live_server.get("/queries")[2])["queries"]
    required = [(q["name"], p["name"]) for q in listed for p in q["parameters"] if p["required"] and p["default"] is None]
    typed = [(q["name"], p["name"]) for q in listed for p in q["parameters"]
             if p["type"] in ("year", "integer", "decimal", "date", "registry", "country", "boolean")]
    if not required and not typed:
        pytest.skip("no library query takes a parameter that can be wrong")
    name, parameter = (required or typed)[0]
    code, _, body = live_server.get(f"/queries/{name}?no_such_param=1")
    assert code == 400 and json.loads(body)["parameter"] == "no_such_param"

    open_page(browser, live_server)
    browser.find_element(By.CSS_SELECTOR, f'#library-list a.example[data-name="{name}"]').click()
    field = wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'#params-fields input[name="{parameter}"]')))
    field.clear()
    if not required:
        field.send_keys("not a value!")
    browser.find_element(By.ID, "params-load").click()
    problem = wait(browser).until(EC.visibility_of_element_located((By.ID, "problem")))
    assert "Invalid parameter" in problem.text and "400" in problem.text
    assert f"Parameter {parameter}" in problem.text
    assert "invalid" in field.get_attribute("class")


def test_without_the_editor_modules_the_text_area_still_works(browser, live_server) -> None:
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/vendor/*"]})
    try:
        open_page(browser, live_server, editor=False)
        assert "plain text area" in browser.find_element(By.ID, "editor-status").text
        area = browser.find_element(By.ID, "query")
        assert area.is_displayed()
        assert not browser.find_elements(By.CSS_SELECTOR, ".cm-editor")
        area.clear()
        area.send_keys("PREFIX ck: <https://w3id.org/carbonkg/ontology#>\n"
                       "SELECT ?s WHERE { ?s a ck:ProjectListing } LIMIT 3")
        run(browser)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == 3
        assert browser.find_elements(By.CSS_SELECTOR, "#results a.iri.local")
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        browser.execute_cdp_cmd("Network.disable", {})
