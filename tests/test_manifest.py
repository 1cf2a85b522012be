"""manifest.yml grants what the code needs in a real workspace.

The emulator answers every method whatever the token's scopes, so only this test stands between a new
Web API call (or event listener) and a `missing_scope` error, or an event Slack never sends, in a real
workspace. Methods and events are read from the code itself; the scopes each needs are Slack's, from
the method and event reference pages (docs.slack.dev/reference/methods/…, …/events/…).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SLACK_CODE = [*sorted((ROOT / "bot").rglob("*.py")), *sorted((ROOT / "scheduler").rglob("*.py"))]

# Web API method (as slack-sdk names it) -> bot scopes, any one of which is enough.
METHOD_SCOPES: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "conversations_open": {"im:write"},
    "conversations_history": {"im:history", "channels:history", "groups:history"},
    "conversations_replies": {"im:history", "channels:history", "groups:history"},
    "conversations_info": {"channels:read", "groups:read", "im:read"},
    "conversations_list": {"channels:read", "groups:read"},
    "conversations_members": {"channels:read", "groups:read"},
    "users_info": {"users:read"},
    "users_list": {"users:read"},
    "users_lookupByEmail": {"users:read.email"},
    "usergroups_list": {"usergroups:read"},
    "usergroups_users_list": {"usergroups:read"},
    "files_upload_v2": {"files:write"},
    "files_getUploadURLExternal": {"files:write"},
    "files_completeUploadExternal": {"files:write"},
    "views_open": set(),
    "views_publish": set(),
    "views_update": set(),
    "auth_test": set(),
}
# Event Sprout listens to -> the bot_events subscription(s) that deliver it, and the scopes they need.
EVENT_SUBSCRIPTIONS: dict[str, dict[str, set[str]]] = {
    "app_home_opened": {"app_home_opened": set()},
    "member_joined_channel": {"member_joined_channel": {"channels:read", "groups:read"}},
    "team_join": {"team_join": {"users:read"}},
    "user_change": {"user_change": {"users:read"}},
    "subteam_members_changed": {"subteam_members_changed": {"usergroups:read"}},
    "message": {"message.channels": {"channels:history"}, "message.groups": {"groups:history"},
                "message.im": {"im:history"}},
}

NOT_SLACK = {"post_statements"}  # scheduler/lrs.py's client speaks xAPI to an LRS, not Slack
CALL = re.compile(r"\bclient\.(\w+)\(|_call\(\s*\"(\w+)\"|\.api_call\(\s*\"([\w.]+)\"")
EVENT = re.compile(r"@app\.event\(\s*\"(\w+)\"")


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def methods_called() -> set[str]:
    found: set[str] = set()
    for path in SLACK_CODE:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            name = next(g for g in match.groups() if g)
            found.add(name.replace(".", "_"))
    return found


def events_listened() -> set[str]:
    return {m.group(1) for path in SLACK_CODE for m in EVENT.finditer(path.read_text(encoding="utf-8"))}


def test_the_scan_finds_what_sprout_is_known_to_call():
    # If the scan broke, the checks below would pass on nothing.
    assert {"chat_update", "views_publish", "users_list", "conversations_members"} <= methods_called()
    assert {"chat_postMessage", "files_upload_v2", "conversations_history"} <= methods_called()
    assert {"app_home_opened", "member_joined_channel", "message"} <= events_listened()


def test_every_web_api_method_sprout_calls_is_covered_by_a_granted_scope():
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    unknown = methods_called() - METHOD_SCOPES.keys() - NOT_SLACK
    assert not unknown, f"add the Slack scopes of {sorted(unknown)} to METHOD_SCOPES"
    missing = {m: sorted(need) for m in methods_called() & METHOD_SCOPES.keys()
               if (need := METHOD_SCOPES[m]) and not need & scopes}
    assert not missing, f"manifest.yml lacks a scope for: {missing}"


def test_every_event_sprout_listens_to_is_subscribed_with_its_scope():
    app = manifest()
    subscribed = set(app["settings"]["event_subscriptions"]["bot_events"])
    scopes = set(app["oauth_config"]["scopes"]["bot"])
    for event in events_listened():
        assert event in EVENT_SUBSCRIPTIONS, f"add {event!r} to EVENT_SUBSCRIPTIONS"
        for subscription, need in EVENT_SUBSCRIPTIONS[event].items():
            assert subscription in subscribed, f"manifest.yml does not subscribe to {subscription}"
            assert not need or need & scopes, f"{subscription} needs one of {sorted(need)}"


def test_every_request_url_is_the_one_endpoint():
    app = manifest()
    urls = [c["url"] for c in app["features"]["slash_commands"]]
    urls += [app["settings"]["event_subscriptions"]["request_url"], app["settings"]["interactivity"]["request_url"]]
    assert all(url.endswith("/slack/events") for url in urls) and len(set(urls)) == 1


def test_group_dms_for_mentoring_pairs_have_their_own_scopes():
    # conversations.open with several users opens an mpim, which im:write does not cover; the outbox's look-up
    # after a doubtful send reads the mpim's history.
    assert "conversations_open(users=\",\".join" in (ROOT / "bot" / "pairing.py").read_text(encoding="utf-8")
    assert {"mpim:write", "mpim:history"} <= set(manifest()["oauth_config"]["scopes"]["bot"])
