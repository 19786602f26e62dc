"""A system's posture as an OSCAL assessment-results document (OSCAL 1.2.1, JSON).

Pure: plain dicts in, one plain JSON-serialisable dict out; no OSCAL library is imported here
(compliance-trestle validates the output in tests only). The mapping:

* every evidence item is an observation (TEST for measurements, EXAMINE for documents) and a
  back-matter resource carrying the document's SHA-256; every attachment is a resource too;
* every assessed subcategory (status other than not_assessed) is a finding whose target is the
  subcategory as an objective, satisfied for met and not_applicable, not-satisfied otherwise;
* every risk-register entry is a risk;
* riskreg keeps no separate assessment plan: its rule set and the organisation's policy are the
  plan, so `import-ap` points at a back-matter resource describing them ("#<uuid>", the OSCAL
  way to reference back matter) whose rlink is `urn:riskreg:assessment-plan:<system slug>`.

Every uuid is a name-based uuid5 in NAMESPACE, so equal inputs give an identical document.
Observations, findings, risks and resources keep their uuid across revisions (OSCAL asks for
per-subject uuids); the document and its result change uuid with `generated_at`.
"""

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

OSCAL_VERSION = "1.2.1"  # the version compliance-trestle 5.2 models
NAMESPACE = uuid.UUID("33c847c2-94c5-4bd6-be35-685d7efc20e6")  # never change: uuids derive from it
PROP_NS = "https://riskreg.example/ns/oscal"

NOT_ASSESSED = "not_assessed"
SATISFIED = frozenset({"met", "not_applicable"})
NOT_SATISFIED = frozenset({"not_met", "inconclusive", "partially_met"})

# riskreg risk status -> OSCAL risk status token.
RISK_STATUS = {
    "proposed": "open",
    "open": "open",
    "treating": "remediating",  # the spelling in riskreg.risks.models.RiskStatus
    "in_treatment": "remediating",
    "accepted": "deviation-approved",
    "closed": "closed",
    "dismissed": "closed",
}

_NOT_TOKEN = re.compile(r"[^a-z0-9_.\-]+")


def oscal_assessment_results(
    *,
    organisation: str,
    system: dict[str, Any],
    posture: dict[str, Any],
    evidence: list[dict[str, Any]],
    risks: list[dict[str, Any]],
    generated_at: datetime,
    riskreg_version: str,
) -> dict[str, Any]:
    """The posture of `system` as `{"assessment-results": {...}}`.

    Raises
    ------
    ValueError
        When `generated_at` is naive, a subcategory, evidence uid or risk reference repeats,
        or a status is unknown.
    """
    now = instant(generated_at)
    scope = f"{organisation}/{system['slug']}"
    _require_unique((s["id"] for s in posture["subcategories"]), "subcategory")
    _require_unique((e["uid"] for e in evidence), "evidence uid")
    _require_unique((r["reference"] for r in risks), "risk reference")
    plan = _plan_resource(system, posture, scope)
    document = {
        "uuid": _uid(f"assessment-results:{scope}:{now}"),
        "metadata": _metadata(organisation, system, now, riskreg_version),
        "import-ap": {"href": f"#{plan['uuid']}"},
        "results": [_result(system, posture, evidence, risks, scope=scope, now=now)],
        "back-matter": {"resources": [plan, *(r for e in evidence for r in _resources(e))]},
    }
    return {"assessment-results": document}


def _result(
    system: dict[str, Any],
    posture: dict[str, Any],
    evidence: list[dict[str, Any]],
    risks: list[dict[str, Any]],
    *,
    scope: str,
    now: str,
) -> dict[str, Any]:
    """The one result: observations, risks and a finding per assessed subcategory."""
    observed = {item["uid"]: _uid(f"observation:{item['uid']}") for item in evidence}
    assessed = [s for s in posture["subcategories"] if _state(s["status"]) is not None]
    return _compact(
        {
            "uuid": _uid(f"result:{scope}:{now}"),
            "title": _line(f"AI RMF posture of {system['name']}", "AI RMF posture"),
            "description": _result_description(system, posture),
            "start": now,
            "props": _props(
                ("system", system["slug"]),
                ("decided-at", posture.get("decided_at")),
                ("rules-version", posture.get("rules_version")),
                ("policy-version", posture.get("policy_version")),
            ),
            "reviewed-controls": _reviewed_controls(posture["subcategories"]),
            "observations": [_observation(item) for item in evidence],
            "risks": [_risk(risk, scope) for risk in risks],
            "findings": [_finding(sub, scope, observed) for sub in assessed],
        }
    )


def control_token(subcategory_id: str) -> str:
    """An AI RMF subcategory id as an OSCAL token: "MEASURE 2.11" -> "measure-2.11"."""
    token = _NOT_TOKEN.sub("-", subcategory_id.strip().lower()).strip("-")
    if not token or not (token[0].isalpha() or token[0] == "_"):
        token = f"_{token}"  # a token must start with a letter or an underscore
    return token


def instant(moment: datetime) -> str:
    """An aware datetime in UTC as trestle writes it: +00:00, milliseconds only when set.

    Raises ValueError for a naive datetime: OSCAL timestamps need a timezone.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("OSCAL timestamps need a timezone; got a naive datetime")
    utc = moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds" if utc.microsecond else "seconds")


def _metadata(
    organisation: str, system: dict[str, Any], now: str, riskreg_version: str
) -> dict[str, Any]:
    """Title, dates, versions and the organisation as the one party."""
    metadata = {
        "title": _line(f"AI RMF posture of {system['name']}", "AI RMF posture"),
        "last-modified": now,
        # The document's own revision: a new one per generation, ordered by time.
        "version": now,
        "oscal-version": OSCAL_VERSION,
        "props": _props(("riskreg-version", riskreg_version)),
        "parties": [
            {
                "uuid": _uid(f"party:{organisation}"),
                "type": "organization",
                "name": _line(organisation, "Unnamed organisation"),
            }
        ],
    }
    return _compact(metadata)


def _result_description(system: dict[str, Any], posture: dict[str, Any]) -> str:
    """What the result is, with the system's own description."""
    text = (
        f"riskreg's decisions for {system['name']} against the subcategories of NIST AI RMF 1.0"
        f" (rules {posture.get('rules_version') or 'unknown'},"
        f" policy version {posture.get('policy_version') or 'none'}). Subcategories without"
        " applicable evidence (not assessed) are reviewed but have no finding."
    )
    description = (system.get("description") or "").strip()
    return f"{text}\n\n{description}" if description else text


def _reviewed_controls(subcategories: list[dict[str, Any]]) -> dict[str, Any]:
    """Every subcategory of the posture, as control ids in OSCAL token form."""
    if not subcategories:
        selection: dict[str, Any] = {"include-all": {}}
    else:
        ids = [{"control-id": control_token(s["id"])} for s in subcategories]
        selection = {"include-controls": ids}
    return {
        "description": "NIST AI RMF 1.0 subcategories, as ids in OSCAL token form.",
        "control-selections": [selection],
    }


def _observation(item: dict[str, Any]) -> dict[str, Any]:
    """One evidence item: how it was examined, when it took effect, where it lies."""
    uid, kind = item["uid"], item["kind"]
    nature = "document" if kind == "document" else "measurement"
    effective = date.fromisoformat(item["effective_date"])
    resources = [_evidence_resource_uuid(uid)]
    resources += [_attachment_resource_uuid(uid, a["name"]) for a in item.get("attachments") or []]
    links = [{"href": f"#{resource}", "rel": "reference"} for resource in resources]
    return _compact(
        {
            "uuid": _uid(f"observation:{uid}"),
            "title": _line(item.get("title") or "", f"Evidence {uid}"),
            "description": (
                f"{kind if kind == nature else f'{kind} {nature}'} effective"
                f" {effective.isoformat()}: {_line(item.get('title') or '', uid)}."
            ),
            "props": _props(("evidence-kind", kind), ("evidence-uid", uid)),
            "methods": ["EXAMINE" if nature == "document" else "TEST"],
            "relevant-evidence": [
                {
                    "href": _evidence_href(uid),
                    "description": f"riskreg {kind} item {uid}"
                    + (" and its attachments." if len(links) > 1 else "."),
                    "links": links,
                }
            ],
            "collected": instant(datetime.combine(effective, time(0), tzinfo=UTC)),
        }
    )


def _finding(sub: dict[str, Any], scope: str, observed: dict[str, str]) -> dict[str, Any]:
    """One assessed subcategory: its verdict as an objective status, with its evidence."""
    status = sub["status"]
    cited = [
        *(sub.get("evidence") or ()),
        *(u for r in sub.get("rationale") or () for u in r.get("evidence") or ()),
    ]
    related = [{"observation-uuid": observed[u]} for u in dict.fromkeys(cited) if u in observed]
    target = {
        "type": "objective-id",
        "target-id": control_token(sub["id"]),
        "title": _line(sub["id"], control_token(sub["id"])),
        "props": _props(("subcategory", sub["id"]), ("function", sub.get("function"))),
        "status": {"state": _state(status), "reason": status},
    }
    return _compact(
        {
            "uuid": _uid(f"finding:{scope}:{sub['id']}"),
            "title": _line(f"{sub['id']}: {status.replace('_', ' ')}", sub["id"]),
            "description": _finding_description(sub),
            "props": _props(
                ("status", status),
                ("overridden", bool(sub.get("overridden"))),
                ("decided-at", sub.get("decided_at")),
            ),
            "target": target,
            "related-observations": related,
        }
    )


def _finding_description(sub: dict[str, Any]) -> str:
    """The outcome, the verdict and one line per rule of the rationale."""
    overridden = " (set by an officer's decision)" if sub.get("overridden") else ""
    lines = [(sub.get("outcome") or sub["id"]).strip(), "", f"Status: {sub['status']}{overridden}."]
    for reason in sub.get("rationale") or ():
        line = f"- {reason['rule']}: {reason['status']}"
        if reason.get("metric") is not None:
            line += f"; {reason['metric']} = {_number(reason.get('value'))}"
            line += f" against threshold {_number(reason.get('threshold'))}"
        if reason.get("note"):
            line += f"; {' '.join(str(reason['note']).split())}"
        lines.append(line)
    return "\n".join(lines)


def _risk(risk: dict[str, Any], scope: str) -> dict[str, Any]:
    """One risk-register entry; riskreg's own status and level stay in props."""
    if risk["status"] not in RISK_STATUS:
        raise ValueError(f"risk {risk['reference']} has unknown status {risk['status']!r}")
    statement = (risk.get("statement") or "").strip() or risk["title"]
    return _compact(
        {
            "uuid": _uid(f"risk:{scope}:{risk['reference']}"),
            "title": _line(risk["title"], risk["reference"]),
            "description": statement,
            "statement": statement,
            "props": _props(
                ("reference", risk["reference"]),
                ("status", risk["status"]),
                ("level", risk.get("level")),
            ),
            "status": RISK_STATUS[risk["status"]],
        }
    )


def _plan_resource(system: dict[str, Any], posture: dict[str, Any], scope: str) -> dict[str, Any]:
    """The stand-in for an assessment plan that `import-ap` points at."""
    return _compact(
        {
            "uuid": _uid(f"resource:assessment-plan:{scope}"),
            "title": "riskreg rules and policy (the assessment plan)",
            "description": (
                "riskreg keeps no OSCAL assessment plan: its rule set and the organisation's"
                " policy decide each subcategory from the current evidence."
            ),
            "props": _props(
                ("rules-version", posture.get("rules_version")),
                ("policy-version", posture.get("policy_version")),
            ),
            "rlinks": [{"href": f"urn:riskreg:assessment-plan:{quote(system['slug'], safe='')}"}],
        }
    )


def _resources(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The evidence document and each attachment, each with its SHA-256."""
    uid = item["uid"]
    resources = [
        _compact(
            {
                "uuid": _evidence_resource_uuid(uid),
                "title": _line(item.get("title") or "", f"Evidence {uid}"),
                "props": _props(("evidence-kind", item["kind"]), ("evidence-uid", uid)),
                "rlinks": [_rlink(_evidence_href(uid), item["document_sha256"])],
            }
        )
    ]
    for attachment in item.get("attachments") or []:
        name = attachment["name"]
        href = f"{_evidence_href(uid)}:attachment:{quote(name, safe='')}"
        resources.append(
            {
                "uuid": _attachment_resource_uuid(uid, name),
                "title": _line(name, "Attachment"),
                "props": _props(("attachment-of", uid)),
                "rlinks": [_rlink(href, attachment["sha256"])],
            }
        )
    return resources


def _rlink(href: str, sha256: str) -> dict[str, Any]:
    return {"href": href, "hashes": [{"algorithm": "SHA-256", "value": sha256}]}


def _evidence_resource_uuid(uid: str) -> str:
    return _uid(f"resource:evidence:{uid}")


def _attachment_resource_uuid(uid: str, name: str) -> str:
    return _uid(f"resource:attachment:{uid}:{name}")


def _evidence_href(uid: str) -> str:
    return f"urn:riskreg:evidence:{quote(uid, safe='')}"


def _state(status: str) -> str | None:
    """The OSCAL objective state of a riskreg status; None for not_assessed."""
    if status == NOT_ASSESSED:
        return None
    if status in SATISFIED:
        return "satisfied"
    if status in NOT_SATISFIED:
        return "not-satisfied"
    raise ValueError(f"unknown subcategory status {status!r}")


def _props(*pairs: tuple[str, object]) -> list[dict[str, str]]:
    """riskreg-specific OSCAL props in PROP_NS; None values are left out."""
    props = []
    for name, value in pairs:
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if text.strip():
            props.append({"name": name, "ns": PROP_NS, "value": _line(text, text)})
    return props


def _line(text: str, fallback: str) -> str:
    """One line without outer spaces, as OSCAL titles and prop values need; else fallback."""
    return " ".join(str(text).split()) or " ".join(str(fallback).split())


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _compact(node: dict[str, Any]) -> dict[str, Any]:
    """Without None values and empty lists: OSCAL arrays, when present, hold at least one."""
    return {k: v for k, v in node.items() if v is not None and v != []}


def _uid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def _require_unique(values: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} appears twice")
        seen.add(value)
