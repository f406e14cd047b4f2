"""Invalid examples: the valid graph tests/shapes/valid/base.ttl with a few triples changed so that
exactly one shape reports exactly one focus node.

Property shapes get a generated mutation (:func:`property_cases`), chosen from the shape's own
constraints: a value outside its vocabulary or of the wrong class, a literal of a wrong datatype,
or no value at all for a required property. SHACL-SPARQL shapes and property shapes whose
generated mutation would also break another shape get a hand-written case (``MANUAL``). Each case
is a :class:`Case`: triples to remove (subject and predicate, every value), Turtle to add, and
the expected (shape, focus) pairs with the shape's severity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

HERE = Path(__file__).resolve().parent
BASE = HERE / "valid" / "base.ttl"
EX = "http://example.org/c0/"
CK = "https://w3id.org/carbonkg/ontology#"
CKSH = "https://w3id.org/carbonkg/shapes#"
V = "https://w3id.org/carbonkg/vocab/"

PREFIXES = f"""@prefix ck: <{CK}> . @prefix ex: <{EX}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix csvw: <http://www.w3.org/ns/csvw#> . @prefix v: <{V}> .
"""

#: the base node that a node shape's targets reach first (class local name → base node)
FOCUS = {
    "ProjectListing": "listing", "CreditBlock": "block1", "Issuance": "issuance", "Retirement": "retirement",
    "Cancellation": "cancellation", "Conversion": "conversion", "LabelAttestation": "ccp",
    "CrossRegistryLink": "link", "Organisation": "developer", "Location": "location", "Methodology": "methodology",
    "MethodologyVersion": "methodologyVersion", "Verification": "verification", "Participation": "participation",
    "Project": "project", "Account": "account", "Authorisation": "authorisation", "FirstTransfer": "firstTransfer",
    "Article6Transfer": "transfer", "Use": "use", "ITMOBlock": "itmo", "CorrespondingAdjustment": "adjustment",
    "CooperativeApproach": "approach", "RegistryExport": "export", "Row": "row1",
}

#: for node shapes with several target classes, the class whose base node is mutated
PRIMARY = ["Issuance", "Retirement", "Verification", "Organisation", "FirstTransfer", "ProjectListing", "CreditBlock"]

#: which event a CreditEventShape property is mutated on (the base issuance has no such value)
EVENT_FOCUS = {"retirementReason": "retirement", "cancellationReason": "cancellation", "participant": "retirement",
               "account": "retirement", "certificateUrl": "retirement", "quantity": "retirement",
               "compliancePeriod": "retirement"}


@dataclass
class Case:
    shape: str  # local name in cksh:
    expect: list[str]  # focus nodes (local names in ex:)
    remove: list[tuple[str, str]] = field(default_factory=list)  # (ex: local name, ck: local name or full IRI)
    add: str = ""  # Turtle (PREFIXES are added)

    @property
    def id(self) -> str:
        return self.shape


def _ck(name: str) -> URIRef:
    return URIRef(name if name.startswith("http") else CK + name)


def apply(case: Case, base: Graph) -> Graph:
    graph = Graph()
    for triple in base:
        graph.add(triple)
    for subject, predicate in case.remove:
        graph.remove((URIRef(EX + subject), _ck(predicate), None))
    if case.add:
        graph.parse(data=PREFIXES + case.add, format="turtle")
    return graph


def _first_predicate(shapes: Graph, path) -> tuple[URIRef, bool] | None:
    """The predicate to mutate for a path, and whether the path is inverse."""
    if isinstance(path, URIRef):
        return path, False
    alternative = shapes.value(path, SH.alternativePath)
    if alternative is not None:
        return Collection(shapes, alternative)[0], False
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return inverse, True
    return None


def _value_for(shapes: Graph, prop) -> str | None:
    """A Turtle object that violates one value constraint of ``prop`` (None: none applies)."""
    if shapes.value(prop, SH.node) is not None or shapes.value(prop, SH["in"]) is not None:
        return "<http://example.org/not-a-concept>"
    if shapes.value(prop, SH["class"]) is not None or shapes.value(prop, SH["or"]) is not None:
        return "ex:untyped-node"
    if shapes.value(prop, SH.datatype) is not None:
        if any(shapes.value(prop, p) is not None for p in (SH.minInclusive, SH.minExclusive, SH.maxInclusive, SH.maxExclusive)):
            # comparable, so only the datatype is wrong (pySHACL reports no range result for a
            # literal of an unknown datatype, where SHACL and the fast path do)
            return '"0.5"^^<http://www.w3.org/2001/XMLSchema#double>'
        return '"wrong"^^<urn:example:not-the-datatype>'
    if shapes.value(prop, SH.pattern) is not None:
        return '"not matching!"'
    if shapes.value(prop, SH.nodeKind) is not None:
        return '"a literal"'
    return None


def property_cases(shapes: Graph, base: Graph) -> list[Case]:
    """One generated case per property shape of a node shape with a class target."""
    cases = []
    for node_shape in sorted(set(shapes.subjects(SH.targetClass, None)), key=str):
        if not str(node_shape).startswith(CKSH):
            continue
        classes = sorted(str(c).rsplit("#", 1)[-1] for c in shapes.objects(node_shape, SH.targetClass))
        cls = next(c for c in PRIMARY + classes if c in classes and c in FOCUS)
        for prop in sorted(shapes.objects(node_shape, SH.property), key=str):
            name = str(prop)[len(CKSH):]
            if name in MANUAL:
                continue
            local = name.split("-", 1)[1]
            focus = EVENT_FOCUS.get(local, FOCUS[cls]) if node_shape.endswith("CreditEventShape") else FOCUS[cls]
            found = _first_predicate(shapes, shapes.value(prop, SH.path))
            if found is None:
                continue
            predicate, inverse = found
            if inverse:
                continue  # hand-written in MANUAL
            value = _value_for(shapes, prop)
            remove = [(focus, str(predicate))]
            if value is None:
                if shapes.value(prop, SH.minCount) is None:
                    continue
                cases.append(Case(name, [focus], remove=remove))
            else:
                cases.append(Case(name, [focus], remove=remove, add=f"ex:{focus} <{predicate}> {value} ."))
    return cases


#: hand-written cases (shapes that SPARQL describes, and property shapes whose generated mutation
#: would also break another shape)
MANUAL: dict[str, Case] = {c.shape: c for c in [
    # core: property shapes
    Case("CreditBlock-quantity", ["itmo"], add="ex:itmo ck:quantity 1.0 , 2.0 ."),
    Case("CreditBlock-quantityPositive", ["itmo"], add="ex:itmo ck:quantity 0.0 ."),
    Case("CreditBlock-hasLabel", ["block1"], add="ex:block1 ck:hasLabel ex:untyped-node ."),
    Case("CreditBlock-vintageEnd", ["block1"], remove=[("block1", "vintageStart"), ("block1", "vintageEnd")],
         add='ex:block1 ck:vintageEnd "2020"^^xsd:gYear .'),
    Case("CreditBlock-serialStart", ["block1"], remove=[("block1", "serialStart"), ("block1", "quantity")],
         add='ex:block1 ck:serialStart 200 .'),
    Case("CreditBlock-serialEnd", ["block2"], remove=[("block2", "serialStart"), ("block2", "serialEnd")],
         add='ex:block2 ck:serialEnd "150.5"^^xsd:double .'),
    Case("CreditBlock-blockOf", ["block3"], remove=[("block3", "blockOf")]),
    Case("CreditBlock-recordedIn", ["block1"], add="ex:block1 ck:recordedIn <http://example.org/not-a-concept> ."),
    Case("CreditBlock-vintageYear", ["block1"], remove=[("block1", "vintageYear")],
         add='ex:block1 ck:vintageYear "2020-01-01"^^xsd:date .'),
    Case("CreditBlock-vintageStart", ["block1"], remove=[("block1", "vintageStart")],
         add='ex:block1 ck:vintageStart "2021-01-01"^^xsd:date .'),
    Case("CreditBlock-generatedBy", ["block3"], add="ex:issuance ck:generatedBlock ex:block3 ."),
    Case("CreditBlock-serialPrefix", ["block3"], remove=[("block3", "serialPrefix")],
         add='ex:block3 ck:serialPrefix "x"^^<urn:example:not-the-datatype> .'),
    Case("ProjectListing-recordedIn", ["listing"], remove=[("listing", "recordedIn")],
         add="ex:listing ck:recordedIn <http://example.org/not-a-concept> ."),
    Case("ProjectListing-nativeId", ["listing2"], remove=[("listing2", "nativeId")]),
    Case("ProjectListing-listingDate", ["listing"], remove=[("listing", "listingDate")],
         add='ex:listing ck:listingDate "2019-06-01"^^xsd:date .'),
    Case("ProjectListing-creditingPeriodStart", ["listing2"],
         add='ex:listing2 ck:creditingPeriodStart "2020-06-01"^^xsd:date ; ck:creditingPeriodEnd "2020-03-01"^^xsd:date .'),
    Case("ProjectListing-creditingPeriodEnd", ["listing"], remove=[("listing", "creditingPeriodStart"), ("listing", "creditingPeriodEnd")],
         add='ex:listing ck:creditingPeriodEnd "2047"^^xsd:gYear .'),
    Case("ProjectListing-registrationDate", ["listing"], add='ex:listing ck:registrationDate "2019-02-02"^^xsd:date .'),
    Case("ProjectListing-estimatedAnnualReductions", ["listing"], remove=[("listing", "estimatedAnnualReductions")],
         add="ex:listing ck:estimatedAnnualReductions -5.0 ."),
    Case("ProjectListing-sameActivityAs", ["listing"], add="ex:listing ck:sameActivityAs ex:untyped-node ."),
    Case("ProjectListing-methodology", ["listing"], add="ex:listing ck:methodology ex:untyped-node ."),
    Case("ProjectListing-hostCountry", ["listing"], remove=[("listing", "hostCountry")],
         add="ex:listing ck:hostCountry <http://example.org/not-a-concept> ."),
    Case("ProjectListing-listingOf", ["listing"], remove=[("listing", "listingOf")],
         add="ex:listing ck:listingOf ex:untyped-node . ex:listing2 ck:listingOf ex:project ."),
    Case("Issuance-issuedFor", ["issuance2"], remove=[("issuance2", "issuedFor")]),
    Case("Issuance-monitoringPeriodStart", ["issuance"], remove=[("issuance", "monitoringPeriodStart"), ("issuance", "monitoringPeriodEnd")],
         add='ex:issuance ck:monitoringPeriodStart "2020-12-01"^^xsd:date ; ck:monitoringPeriodEnd "2020-06-30"^^xsd:date .'),
    Case("Issuance-monitoringPeriodEnd", ["issuance"], remove=[("issuance", "monitoringPeriodStart"), ("issuance", "monitoringPeriodEnd")],
         add='ex:issuance ck:monitoringPeriodEnd "2020"^^xsd:gYear .'),
    Case("CreditEvent-eventDate", ["retirement"], remove=[("retirement", "eventDate")],
         add='ex:retirement ck:eventDate "2022"^^xsd:gYear .'),
    Case("CreditEvent-eventType", ["retirement"], remove=[("retirement", "eventType")],
         add="ex:retirement ck:eventType <http://example.org/not-a-concept> ."),
    Case("CreditEvent-recordedIn", ["retirement"], remove=[("retirement", "recordedIn")],
         add="ex:retirement ck:recordedIn <http://example.org/not-a-concept> ."),
    Case("CreditEvent-blocks", ["issuance"], add="ex:issuance ck:generatedBlock ex:untyped-node ."),
    Case("CreditEvent-quantity", ["retirement"], remove=[("retirement", "quantity")], add="ex:retirement ck:quantity -1.0 ."),
    Case("Retirement-affectsBlock", ["retirement"], remove=[("retirement", "affectsBlock")]),
    Case("Conversion-convertedFrom", ["conversion"], remove=[("conversion", "convertedFrom")]),
    Case("Conversion-convertedTo", ["conversion"], remove=[("conversion", "targetProgramme")]),
    Case("LabelAttestation-labelSubject", ["ccp"], remove=[("ccp", "labelSubject")],
         add="ex:ccp ck:labelSubject ex:block1 , ex:block2 ."),
    Case("LabelAttestation-hasLabel", ["ccp"], remove=[("block1", "hasLabel")]),
    Case("LabelAttestation-labelType", ["ccp"], remove=[("ccp", "labelType")],
         add="ex:ccp ck:labelType <http://example.org/not-a-concept> ."),
    Case("LabelAttestation-labelScope", ["ccp"], remove=[("ccp", "labelScope")],
         add="ex:ccp ck:labelScope <http://example.org/not-a-concept> ."),
    Case("LabelAttestation-validFrom", ["ccp"], remove=[("ccp", "validUntil")],
         add='ex:ccp ck:validUntil "2020-01-01"^^xsd:date .'),
    Case("LabelAttestation-issuer", ["ccp"], remove=[("ccp", "http://www.w3.org/ns/prov#wasAttributedTo")]),
    Case("CrossRegistryLink-linkSubject", ["link"], remove=[("link", "linkSubject")]),
    Case("CrossRegistryLink-linkObject", ["link"], remove=[("link", "linkObject")]),
    Case("CrossRegistryLink-linkRelation", ["link"], remove=[("link", "linkRelation")]),
    Case("CrossRegistryLink-confidence", ["link"], remove=[("link", "confidence")], add="ex:link ck:confidence 1.5 ."),
    Case("MethodologyVersion-versionOf", ["methodologyVersion"], remove=[("methodologyVersion", "versionOf")]),
    Case("Participation-agent", ["participation"], remove=[("participation", "http://www.w3.org/ns/prov#agent")]),
    Case("Project-listing", ["project"], remove=[("listing", "listingOf")]),
    Case("SourceRow-export", ["row1"], remove=[]  # a row no export lists
         , add=""),
    Case("SourceRow-rownum", ["row1"], remove=[("row1", "http://www.w3.org/ns/csvw#rownum")],
         add="ex:row1 csvw:rownum 0 ."),
    Case("RegistryExport-sha256", ["export"], remove=[("export", "sha256")], add='ex:export ck:sha256 "ABC" .'),
    Case("Authorisation-authorisingParty", ["authorisation"], remove=[("authorisation", "authorisingParty")]),
    Case("Authorisation-authorisedQuantity", ["authorisation"], remove=[("authorisation", "authorisedQuantity"), ("firstTransfer", "quantity")],
         add="ex:authorisation ck:authorisedQuantity 0.0 ."),
    Case("Article6Action-authorisation", ["transfer"], remove=[("transfer", "authorisation")]),
    Case("ITMOBlock-cooperativeApproach", ["itmo"], remove=[("itmo", "cooperativeApproach")]),
    Case("CorrespondingAdjustment-authorisingParty", ["adjustment"], remove=[("adjustment", "authorisingParty")]),
    Case("Organisation-orgName", ["developer"], remove=[("developer", "orgName")], add='ex:developer ck:orgName "" .'),
    # core: SPARQL shapes
    Case("CrossRegistryLinkShape", ["link"], remove=[("listing2", "compliancePeerOf")]),
    Case("DateNotInFuture", ["retirement"], remove=[("retirement", "eventDate")],
         add='ex:retirement ck:eventDate "2999-01-01"^^xsd:date .'),
    Case("VintageYearPlausible", ["block3"], remove=[("block3", "vintageYear")], add='ex:block3 ck:vintageYear "1985"^^xsd:gYear .'),
    Case("UnknownStatus", ["listing2"], add='ex:listing2 ck:statusText "Dormant" .'),
    Case("UnknownCountry", ["listing2"], add='ex:listing2 ck:countryText "Atlantis" .'),
    Case("UnknownReason", ["conversion"], add='ex:conversion ck:reasonText "Because" .'),
    # registry
    Case("SerialRangesDoNotOverlap", ["block2", "block4"], add="""
        ex:block4 a ck:CreditBlock ; ck:recordedIn v:registry\\/verra ; ck:blockOf ex:listing ; ck:serialPrefix "P0" ;
            ck:serialStart 140 ; ck:serialEnd 160 ; ck:quantity 21.0 ; ck:vintageYear "2020"^^xsd:gYear .
        ex:issuance ck:generatedBlock ex:block4 ."""),
    Case("SerialRangeInOneRow", ["block1"], add="ex:row2 csvw:describes ex:block1 ."),
    Case("QuantityMatchesSerialRange", ["block1"], remove=[("block1", "quantity")], add="ex:block1 ck:quantity 99.0 ."),
    Case("RetiredNotAboveIssued", ["listing"], remove=[("retirement", "quantity")], add="ex:retirement ck:quantity 500.0 ."),
    Case("IssuanceNotBeforeListing", ["issuance2"], add='ex:listing2 ck:listingDate "2022-01-01"^^xsd:date .'),
    Case("IssuanceNotBeforeRegistration", ["issuance2"], add='ex:listing2 ck:registrationDate "2021-12-01"^^xsd:date .'),
    Case("RetirementNotBeforeIssuance", ["retirement"], remove=[("retirement", "eventDate")],
         add='ex:retirement ck:eventDate "2021-05-01"^^xsd:date .'),
    Case("VintageWithinMonitoringPeriod", ["block1", "block2"], remove=[("issuance", "monitoringPeriodStart"), ("issuance", "monitoringPeriodEnd")],
         add='ex:issuance ck:monitoringPeriodStart "2018-01-01"^^xsd:date ; ck:monitoringPeriodEnd "2018-12-31"^^xsd:date .'),
    Case("VintageWithinCreditingPeriod", ["block1", "block2"], remove=[("listing", "creditingPeriodStart")],
         add='ex:listing ck:creditingPeriodStart "2021-01-01"^^xsd:date .'),
    Case("RetiredCreditsWereIssued", ["retirement"], remove=[("issuance", "generatedBlock")],
         add="ex:issuance ck:generatedBlock ex:block1 ."),
    Case("RetiredCreditsIssuanceKnown", ["cancellation"], remove=[("issuance2", "generatedBlock")],
         add="ex:issuance2 ck:generatedBlock ex:block5 . ex:block5 a ck:CreditBlock ; ck:recordedIn v:registry\\/american-carbon-registry ; ck:blockOf ex:listing2 ; ck:serialPrefix \"R0\" ."),
    # cross-registry
    Case("NoDoubleIssuance", ["listing", "listing2"], remove=[("cancellation", "affectsBlock"), ("conversion", "convertedFrom")],
         add="ex:cancellation ck:affectsBlock ex:block6 . ex:conversion ck:convertedFrom ex:block6 . "
             "ex:block6 a ck:CreditBlock ; ck:recordedIn v:registry\\/american-carbon-registry ; ck:blockOf ex:listing2 ; "
             "ck:vintageYear \"2019\"^^xsd:gYear ; ck:quantity 10.0 . ex:issuance2 ck:generatedBlock ex:block6 ."),
    Case("ConversionOriginCancelled", ["conversion"], remove=[("conversion", "convertedFrom")],
         add="ex:conversion ck:convertedFrom ex:listing ."),
    Case("ConversionQuantityMatches", ["conversion"], remove=[("conversion", "quantity")], add="ex:conversion ck:quantity 8.0 ."),
    Case("NoDoubleUse", ["retirement", "retirement2"], add="""
        ex:retirement2 a ck:Retirement ; ck:recordedIn v:registry\\/verra ; ck:affectsBlock ex:block7 ; ck:quantity 10.0 .
        ex:block7 a ck:CreditBlock ; ck:recordedIn v:registry\\/verra ; ck:blockOf ex:listing ; ck:serialPrefix "P0" ;
            ck:serialStart 141 ; ck:serialEnd 150 ; ck:quantity 10.0 ."""),
    Case("NoDoubleClaim", ["retirement"], remove=[("retirement", "retirementReason"), ("retirement", "reasonText")],
         add="ex:retirement ck:retirementReason v:retirement-reason\\/contribution-to-corporate-pledge-and-host-country-ndc ."),
    # labels
    Case("CorsiaEligibleNeedsAuthorisation", ["block3"], add="""
        ex:block3 ck:hasLabel ex:corsia . ex:corsia a ck:LabelAttestation ; ck:labelSubject ex:block3 ;
            ck:labelType v:label-type\\/corsia-eligible ; ck:labelScope v:label-scope\\/block ; prov:wasAttributedTo v:registry\\/american-carbon-registry .
        ex:block3 ck:vintageYear "2021"^^xsd:gYear .""", remove=[("block3", "vintageYear")]),
    Case("AdjustedNeedsAuthorisation", ["block3"], add="""
        ex:block3 ck:hasLabel ex:adjusted . ex:adjusted a ck:LabelAttestation ; ck:labelSubject ex:block3 ;
            ck:labelType v:label-type\\/correspondingly-adjusted ; ck:labelScope v:label-scope\\/block ;
            prov:wasAttributedTo v:registry\\/american-carbon-registry ."""),
    Case("CcpLabelMatchesIcvcm", ["block1"], remove=[("icvcm", "labelStatus"), ("icvcm", "labelText")],
         add='ex:icvcm ck:labelText "Does not meet" .'),
    Case("CcpLabelIcvcmKnown", ["block1"], remove=[("methodology", "hasLabel"), ("icvcm", "labelSubject")],
         add="ex:icvcm ck:labelSubject ex:methodologyVersion . ex:methodologyVersion ck:hasLabel ex:icvcm ."),
    Case("LabelScopeMatchesSubject", ["ccp"], remove=[("ccp", "labelScope")], add="ex:ccp ck:labelScope v:label-scope\\/project ."),
    Case("Article6ActionAfterAuthorisation", ["firstTransfer"], remove=[("authorisation", "eventDate")],
         add='ex:authorisation ck:eventDate "2021-02-15"^^xsd:date .'),
    Case("Article6ActionAfterFirstTransfer", ["transfer"], remove=[("transfer", "eventDate")],
         add='ex:transfer ck:eventDate "2021-01-15"^^xsd:date .'),
    Case("Article6UseAfterTransfer", ["use"], remove=[("use", "eventDate")], add='ex:use ck:eventDate "2021-02-15"^^xsd:date .'),
    Case("FirstTransferWithinAuthorisation", ["authorisation"], remove=[("firstTransfer", "quantity")],
         add="ex:firstTransfer ck:quantity 2000.0 ."),
]}

# a source row that no export lists: the row is added, so nothing else refers to it
MANUAL["SourceRow-export"] = Case("SourceRow-export", ["row4"], add="ex:row4 a csvw:Row ; csvw:rownum 4 .")


def all_cases(shapes: Graph, base: Graph) -> list[Case]:
    generated = property_cases(shapes, base)
    names = {c.shape for c in generated}
    return generated + [c for name, c in MANUAL.items() if name not in names]


def shape_names(shapes: Graph) -> set[str]:
    """Every carbonkg shape that can report: property shapes of targeted node shapes, and
    targeted node shapes with SPARQL constraints or component parameters."""
    names = set()
    for node_shape in set(shapes.subjects(SH.targetClass, None)) | set(shapes.subjects(SH.targetSubjectsOf, None)):
        if not str(node_shape).startswith(CKSH):
            continue
        if (node_shape, SH.sparql, None) in shapes or any(
                str(p).startswith(CKSH) for p in shapes.predicates(node_shape, None)):
            names.add(str(node_shape)[len(CKSH):])
        for prop in shapes.objects(node_shape, SH.property):
            names.add(str(prop)[len(CKSH):])
    return names


__all__ = ["Case", "MANUAL", "all_cases", "apply", "shape_names", "BASE", "EX", "BNode", "Literal", "RDF"]
