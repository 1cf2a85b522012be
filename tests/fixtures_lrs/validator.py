"""A checker for xAPI 1.0.3 statements, written from the spec (xAPI-Data.md), for the tests.

Not a mock: it reads a statement and lists every rule it breaks. On PyPI, ``tincan`` (and its
forks) last changed in 2020 and only model the data without checking the rules below;
``ralph-malph``'s pydantic models are well kept but lax about interactions (no check of
``correctResponsesPattern`` formats) and need their own environment — the end-to-end test runs
them there as a second opinion. The rules, with the spec's section:

- 2.4 a statement has actor, verb, object; no property outside the table; no ``stored`` (set by
  the LRS, 2.4.8) and, if a version at all, ``1.0.0`` (2.4.10)
- 2.4.1 / 4.4 ids are UUIDs in standard string form, RFC 4122 variant
- 2.4.2 an Agent has exactly one inverse functional identifier (mbox | mbox_sha1sum | openid |
  account); an account has an IRL ``homePage`` and a ``name``
- 2.4.3 a verb has an IRI id and (our rule, the spec's SHOULD) a ``display`` language map
- 2.4.4.1 activity ids, types, moreInfo and extension keys are absolute IRIs; an interaction has
  a valid interactionType, only its component lists, distinct component ids without whitespace,
  and ``correctResponsesPattern`` (and the learner's ``result.response``) in the format of its type
- 2.4.5 result: success/completion booleans, ``score.scaled`` in [-1, 1], min < max,
  min <= raw <= max, ``duration`` an ISO 8601 duration (4.4.3.2 format)
- 2.4.6 context keys; contextActivities keys parent/grouping/category/other holding arrays of
  activities; ``revision`` and ``platform`` only when the object is an Activity
- 4.2 language map keys are RFC 5646 tags
- 4.5 timestamps ISO 8601 (RFC 3339 profile) with a time zone, not in the future
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority",
                  "version", "attachments"}
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
INTERACTION_TYPES = {"true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing",
                     "likert", "numeric", "other"}
COMPONENT_LISTS = {
    "choice": {"choices"}, "sequencing": {"choices"}, "likert": {"scale"}, "matching": {"source", "target"},
    "performance": {"steps"},
}
DEFINITION_KEYS = {"name", "description", "type", "moreInfo", "interactionType", "correctResponsesPattern",
                   "choices", "scale", "source", "target", "steps", "extensions"}
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8})*$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
    r"|^P\d+W$"
)
UUID_FORM = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_iri(value) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme or ""):
        return False
    return bool(parts.netloc) if parts.scheme in ("http", "https") else bool(parts.path or parts.netloc)


def is_irl(value) -> bool:
    return is_iri(value) and urlsplit(value).scheme in ("http", "https")


def is_uuid(value) -> bool:
    if not isinstance(value, str) or not UUID_FORM.match(value):
        return False
    return uuid.UUID(value).variant == uuid.RFC_4122


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Checker:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def language_map(self, where: str, value) -> None:
        if not isinstance(value, dict) or not value:
            self.problem(where, "must be a non-empty language map")
            return
        for tag, text in value.items():
            if not LANGUAGE_TAG.match(tag):
                self.problem(where, f"{tag!r} is not an RFC 5646 language tag")
            if not isinstance(text, str):
                self.problem(f"{where}.{tag}", "must be a string")

    def extensions(self, where: str, value) -> None:
        if not isinstance(value, dict):
            self.problem(where, "must be an object")
            return
        for key in value:
            if not is_iri(key):
                self.problem(where, f"extension key {key!r} is not an absolute IRI")

    def timestamp(self, where: str, value) -> None:
        if not isinstance(value, str) or not RFC3339.match(value):
            self.problem(where, f"{value!r} is not an ISO 8601 / RFC 3339 timestamp with a time zone")
            return
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if when > self.now:
            self.problem(where, f"{value} is in the future (a provider MUST NOT use one)")

    def agent(self, where: str, agent) -> None:
        if not isinstance(agent, dict):
            self.problem(where, "must be an object")
            return
        if agent.get("objectType", "Agent") != "Agent":
            self.problem(where, "objectType must be Agent")
        unknown = set(agent) - {"objectType", "name", *IFIS}
        if unknown:
            self.problem(where, f"unknown properties {sorted(unknown)}")
        ifis = [key for key in IFIS if key in agent]
        if len(ifis) != 1:
            self.problem(where, f"an Agent needs exactly one inverse functional identifier, has {ifis}")
        if "name" in agent and not isinstance(agent["name"], str):
            self.problem(f"{where}.name", "must be a string")
        if "mbox" in agent and not (isinstance(agent["mbox"], str) and agent["mbox"].startswith("mailto:")):
            self.problem(f"{where}.mbox", "must be a mailto IRI")
        if "mbox_sha1sum" in agent and not re.fullmatch(r"[0-9a-f]{40}", str(agent["mbox_sha1sum"])):
            self.problem(f"{where}.mbox_sha1sum", "must be a hex SHA-1")
        if "openid" in agent and not is_iri(agent["openid"]):
            self.problem(f"{where}.openid", "must be a URI")
        if "account" in agent:
            account = agent["account"]
            if not isinstance(account, dict) or set(account) != {"homePage", "name"}:
                self.problem(f"{where}.account", "must have exactly homePage and name")
                return
            if not is_irl(account["homePage"]):
                self.problem(f"{where}.account.homePage", f"{account['homePage']!r} is not an IRL")
            if not isinstance(account["name"], str) or not account["name"]:
                self.problem(f"{where}.account.name", "must be a non-empty string")

    def verb(self, where: str, verb) -> None:
        if not isinstance(verb, dict) or set(verb) - {"id", "display"}:
            self.problem(where, "must be an object with id and display")
            return
        if not is_iri(verb.get("id")):
            self.problem(f"{where}.id", f"{verb.get('id')!r} is not an absolute IRI")
        if "display" not in verb:
            self.problem(where, "has no display")
        else:
            self.language_map(f"{where}.display", verb["display"])

    def activity(self, where: str, activity) -> dict:
        if not isinstance(activity, dict):
            self.problem(where, "must be an object")
            return {}
        if activity.get("objectType", "Activity") != "Activity":
            self.problem(where, "objectType must be Activity")
        unknown = set(activity) - {"objectType", "id", "definition"}
        if unknown:
            self.problem(where, f"unknown properties {sorted(unknown)}")
        if not is_iri(activity.get("id")):
            self.problem(f"{where}.id", f"{activity.get('id')!r} is not an absolute IRI")
        definition = activity.get("definition", {})
        if not isinstance(definition, dict):
            self.problem(f"{where}.definition", "must be an object")
            return {}
        d = f"{where}.definition"
        unknown = set(definition) - DEFINITION_KEYS
        if unknown:
            self.problem(d, f"unknown properties {sorted(unknown)}")
        for key in ("name", "description"):
            if key in definition:
                self.language_map(f"{d}.{key}", definition[key])
        if "type" in definition and not is_iri(definition["type"]):
            self.problem(f"{d}.type", "is not an absolute IRI")
        if "moreInfo" in definition and not is_irl(definition["moreInfo"]):
            self.problem(f"{d}.moreInfo", "is not an IRL")
        if "extensions" in definition:
            self.extensions(f"{d}.extensions", definition["extensions"])
        self.interaction(d, definition)
        return definition

    def interaction(self, where: str, definition: dict) -> None:
        kind = definition.get("interactionType")
        lists = {key for key in ("choices", "scale", "source", "target", "steps") if key in definition}
        if kind is None:
            if definition.get("type") == INTERACTION:
                self.problem(where, "a cmi.interaction must have an interactionType")
            if lists or "correctResponsesPattern" in definition:
                self.problem(where, "interaction properties without an interactionType")
            return
        if kind not in INTERACTION_TYPES:
            self.problem(f"{where}.interactionType", f"{kind!r} is not a valid interactionType")
            return
        if lists - COMPONENT_LISTS.get(kind, set()):
            self.problem(where, f"{kind} interactions take no {sorted(lists - COMPONENT_LISTS.get(kind, set()))}")
        for key in lists:
            components = definition[key]
            if not isinstance(components, list):
                self.problem(f"{where}.{key}", "must be an array")
                continue
            ids = [c.get("id") for c in components if isinstance(c, dict)]
            if len(ids) != len(components) or not all(isinstance(i, str) and i for i in ids):
                self.problem(f"{where}.{key}", "every component needs a string id")
            if len(set(ids)) != len(ids):
                self.problem(f"{where}.{key}", "component ids must be distinct")
            for component in components:
                if isinstance(component, dict):
                    if any(c.isspace() for c in str(component.get("id", ""))):
                        self.problem(f"{where}.{key}", f"component id {component.get('id')!r} has whitespace")
                    if set(component) - {"id", "description"}:
                        self.problem(f"{where}.{key}", "components have only id and description")
                    if "description" in component:
                        self.language_map(f"{where}.{key}.description", component["description"])
        patterns = definition.get("correctResponsesPattern")
        if patterns is not None:
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                self.problem(f"{where}.correctResponsesPattern", "must be an array of strings")
                return
            for pattern in patterns:
                self.response(f"{where}.correctResponsesPattern", kind, definition, pattern)

    def response(self, where: str, kind: str, definition: dict, value: str) -> None:
        """A response (or correct response pattern) in its interaction type's format (2.4.4.1 s10, s12)."""
        if kind == "true-false":
            if value not in ("true", "false"):
                self.problem(where, f"{value!r} must be true or false")
        elif kind in ("choice", "sequencing"):
            ids = {c.get("id") for c in definition.get("choices", []) if isinstance(c, dict)}
            items = value.split("[,]")
            if not value or any(not item for item in items):
                self.problem(where, f"{value!r} is not a [,]-delimited list of ids")
            for item in items:
                if ids and item not in ids:
                    self.problem(where, f"{item!r} is not one of the choices {sorted(ids)}")
            if kind == "choice" and len(set(items)) != len(items):
                self.problem(where, f"{value!r} lists a choice twice")
        elif kind in ("fill-in", "long-fill-in"):
            rest = value
            while True:
                match = re.match(r"^\{(case_matters|order_matters)=(true|false)\}", rest)
                if match is None:
                    break
                rest = rest[match.end():]
            if re.match(r"^\{(case_matters|order_matters)=", rest):
                self.problem(where, f"{value!r}: case_matters/order_matters take true or false")
            for item in rest.split("[,]"):
                lang = re.match(r"^\{lang=([^}]*)\}", item)
                if lang and not LANGUAGE_TAG.match(lang.group(1)):
                    self.problem(where, f"{value!r}: {lang.group(1)!r} is not a language tag")
        elif kind == "numeric" and not re.fullmatch(r"-?\d+(\.\d+)?|(-?\d+(\.\d+)?)?\[:\](-?\d+(\.\d+)?)?", value):
            self.problem(where, f"{value!r} is not a number or a [:] range")

    def result(self, where: str, result, definition: dict) -> None:
        if not isinstance(result, dict):
            self.problem(where, "must be an object")
            return
        unknown = set(result) - {"score", "success", "completion", "response", "duration", "extensions"}
        if unknown:
            self.problem(where, f"unknown properties {sorted(unknown)}")
        for key in ("success", "completion"):
            if key in result and not isinstance(result[key], bool):
                self.problem(f"{where}.{key}", "must be a boolean")
        if "response" in result:
            if not isinstance(result["response"], str):
                self.problem(f"{where}.response", "must be a string")
            elif definition.get("interactionType") in INTERACTION_TYPES:
                self.response(f"{where}.response", definition["interactionType"], definition, result["response"])
        if "duration" in result and not (isinstance(result["duration"], str) and DURATION.match(result["duration"])):
            self.problem(f"{where}.duration", f"{result['duration']!r} is not an ISO 8601 duration")
        if "extensions" in result:
            self.extensions(f"{where}.extensions", result["extensions"])
        if "score" in result:
            self.score(f"{where}.score", result["score"])

    def score(self, where: str, score) -> None:
        if not isinstance(score, dict) or set(score) - {"scaled", "raw", "min", "max"}:
            self.problem(where, "must be an object of scaled, raw, min, max")
            return
        for key, value in score.items():
            if not is_number(value):
                self.problem(f"{where}.{key}", "must be a number")
                return
        if "scaled" in score and not -1 <= score["scaled"] <= 1:
            self.problem(f"{where}.scaled", f"{score['scaled']} is not in [-1, 1]")
        if "min" in score and "max" in score and not score["min"] < score["max"]:
            self.problem(where, "min must be less than max")
        if "raw" in score:
            if "min" in score and score["raw"] < score["min"]:
                self.problem(where, "raw is below min")
            if "max" in score and score["raw"] > score["max"]:
                self.problem(where, "raw is above max")

    def context(self, where: str, context, object_is_activity: bool) -> None:
        if not isinstance(context, dict):
            self.problem(where, "must be an object")
            return
        unknown = set(context) - {"registration", "instructor", "team", "contextActivities", "revision", "platform",
                                  "language", "statement", "extensions"}
        if unknown:
            self.problem(where, f"unknown properties {sorted(unknown)}")
        if "registration" in context and not is_uuid(context["registration"]):
            self.problem(f"{where}.registration", "must be a UUID")
        for key in ("revision", "platform"):
            if key in context:
                if not object_is_activity:
                    self.problem(f"{where}.{key}", "only when the object is an Activity")
                if not isinstance(context[key], str):
                    self.problem(f"{where}.{key}", "must be a string")
        if "language" in context and not LANGUAGE_TAG.match(str(context["language"])):
            self.problem(f"{where}.language", "must be an RFC 5646 tag")
        if "extensions" in context:
            self.extensions(f"{where}.extensions", context["extensions"])
        activities = context.get("contextActivities")
        if activities is not None:
            if not isinstance(activities, dict):
                self.problem(f"{where}.contextActivities", "must be an object")
                return
            for key, value in activities.items():
                if key not in ("parent", "grouping", "category", "other"):
                    self.problem(f"{where}.contextActivities", f"{key!r} is not a context type")
                if not isinstance(value, list):  # the spec allows one object; providers SHOULD send arrays
                    self.problem(f"{where}.contextActivities.{key}", "should be an array")
                    value = [value]
                for index, activity in enumerate(value):
                    self.activity(f"{where}.contextActivities.{key}[{index}]", activity)

    def statement(self, statement) -> list[str]:
        if not isinstance(statement, dict):
            return ["statement: must be an object"]
        unknown = set(statement) - STATEMENT_KEYS
        if unknown:
            self.problem("statement", f"unknown properties {sorted(unknown)}")
        for key in ("actor", "verb", "object"):
            if key not in statement:
                self.problem("statement", f"has no {key}")
        if "id" in statement and not is_uuid(statement["id"]):
            self.problem("id", f"{statement['id']!r} is not a UUID in standard form")
        if "stored" in statement:
            self.problem("stored", "is set by the LRS, never by the provider")
        if "version" in statement and statement["version"] != "1.0.0":
            self.problem("version", "a provider that sets it sets 1.0.0")
        if "actor" in statement:
            self.agent("actor", statement["actor"])
        if "verb" in statement:
            self.verb("verb", statement["verb"])
        definition: dict = {}
        obj = statement.get("object")
        is_activity = isinstance(obj, dict) and obj.get("objectType", "Activity") == "Activity"
        if is_activity:
            definition = self.activity("object", obj)
        elif obj is not None:
            self.problem("object", "Sprout's statements are about activities")
        if "result" in statement:
            self.result("result", statement["result"], definition)
        if "context" in statement:
            self.context("context", statement["context"], is_activity)
        if "timestamp" in statement:
            self.timestamp("timestamp", statement["timestamp"])
        return self.problems


def problems(statement, *, now: datetime | None = None) -> list[str]:
    """Every rule ``statement`` breaks; empty when it is a valid xAPI 1.0.3 statement."""
    return Checker(now).statement(statement)
