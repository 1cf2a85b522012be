"""Several workspaces behind one Web API address, and the OAuth v2 install flow, as slack.com does them."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.cloud import CODE_TTL_SECONDS, SlackCloud
from sandbox.emulator import SlackEmulator

REDIRECT = "https://sprout.example.com/slack/oauth_redirect"


@pytest.fixture
def cloud():
    now = [1_800_000_000.0]
    with SlackCloud(clock=lambda: now[0]) as cloud:
        acme = cloud.add_workspace(SlackEmulator(bot_token="xoxb-acme", team_id="T0ACME", team_name="Acme"))
        globex = cloud.add_workspace(SlackEmulator(bot_token="xoxb-globex", team_id="T0GLOBEX", team_name="Globex"))
        # The same person in both, as Enterprise Grid shares user ids across workspaces.
        acme.add_user("U0SAME", name="Sam at Acme")
        globex.add_user("U0SAME", name="Sam at Globex")
        globex.add_user("U0GLO", name="Gloria")
        cloud.now = now
        yield cloud


def authorize_url(cloud, **changes) -> str:
    query = {"client_id": cloud.client_id, "scope": "chat:write,commands", "state": "s-123",
             "redirect_uri": REDIRECT, **changes}
    return f"{cloud.authorize_url}?{urlencode(query)}"


def test_calls_go_to_the_workspace_their_token_belongs_to(cloud):
    acme = WebClient(token="xoxb-acme", base_url=cloud.api_url)
    globex = WebClient(token="xoxb-globex", base_url=cloud.api_url)
    assert acme.auth_test()["team_id"] == "T0ACME" and globex.auth_test()["team_id"] == "T0GLOBEX"
    assert acme.users_info(user="U0SAME")["user"]["real_name"] == "Sam at Acme"
    assert globex.users_info(user="U0SAME")["user"]["real_name"] == "Sam at Globex"
    with pytest.raises(SlackApiError) as refused:
        acme.users_info(user="U0GLO")
    assert refused.value.response["error"] == "user_not_found"
    channel = acme.conversations_open(users="U0SAME")["channel"]["id"]
    acme.chat_postMessage(channel=channel, text="hello Acme")
    assert [m["text"] for m in cloud.workspace("T0ACME").dm_messages("U0SAME")] == ["hello Acme"]
    assert cloud.workspace("T0GLOBEX").dm_messages("U0SAME") == []
    with pytest.raises(SlackApiError) as bad:
        WebClient(token="xoxb-nobody", base_url=cloud.api_url).auth_test()
    assert bad.value.response["error"] == "invalid_auth"


def test_oauth_install_gives_the_chosen_workspace_its_bot_token(cloud):
    location = cloud.approve(authorize_url(cloud), team_id="T0GLOBEX", user_id="U0GLO")
    assert location.startswith(REDIRECT + "?")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["state"] == "s-123"
    client = WebClient(base_url=cloud.api_url)
    answer = client.oauth_v2_access(client_id=cloud.client_id, client_secret=cloud.client_secret,
                                    code=query["code"], redirect_uri=REDIRECT)
    assert answer["access_token"] == "xoxb-globex" and answer["team"] == {"id": "T0GLOBEX", "name": "Globex"}
    assert answer["token_type"] == "bot" and answer["scope"] == "chat:write,commands"
    assert answer["authed_user"] == {"id": "U0GLO"} and answer["is_enterprise_install"] is False
    with pytest.raises(SlackApiError) as again:  # a code is used once
        client.oauth_v2_access(client_id=cloud.client_id, client_secret=cloud.client_secret, code=query["code"])
    assert again.value.response["error"] == "invalid_code"


@pytest.mark.parametrize(("change", "error"), [
    ({"client_secret": "wrong"}, "bad_client_secret"),
    ({"client_id": "999.999"}, "invalid_client_id"),
    ({"redirect_uri": "https://evil.example/cb"}, "bad_redirect_uri"),
    ({"late": True}, "invalid_code"),
])
def test_oauth_access_refuses_what_slack_refuses(cloud, change, error):
    code = dict(parse_qsl(urlsplit(cloud.approve(authorize_url(cloud), team_id="T0ACME",
                                                  user_id="U0SAME")).query))["code"]
    if change.pop("late", False):
        cloud.now[0] += CODE_TTL_SECONDS + 1
    args = {"client_id": cloud.client_id, "client_secret": cloud.client_secret, "code": code,
            "redirect_uri": REDIRECT, **change}
    with pytest.raises(SlackApiError) as refused:
        WebClient(base_url=cloud.api_url).oauth_v2_access(**args)
    assert refused.value.response["error"] == error


def test_the_consent_page_lists_each_workspace_and_allowing_redirects_with_a_code(cloud):
    url = authorize_url(cloud)
    page = urllib.request.urlopen(url).read().decode()
    assert "Allow as Gloria in Globex" in page and "Allow as Sam at Acme in Acme" in page
    link = next(part.split('"')[0] for part in page.split('href="')[1:] if "T0GLOBEX" in part and "U0GLO" in part)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(cloud.base_url + link.replace("&amp;", "&"))
    assert redirected.value.code == 302
    assert redirected.value.headers["Location"].startswith(REDIRECT + "?code=")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(authorize_url(cloud, client_id="999.999"))
    assert refused.value.code == 400
