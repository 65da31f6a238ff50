"""Rate limits, on a stack of their own with small windows: sign-in failures per account, sign-ups per address,
chat per user; refusals say when to try again and are counted in /metrics."""

import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from spek.ratelimits import client_address
from tests.support import Account, GraphQLClient, Stack, register, running_stack

SIGNUPS = 6
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
REGISTER_DEVICE = "mutation($d: String!) { registerDevice(deviceId: $d) { accessToken } }"
SEND = "mutation($c: String!) { sendMessage(content: $c) { id } }"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = {
        "SPEK_RATE_LOGIN_FAILURES": "3/4 seconds",
        "SPEK_RATE_SIGNUP_IP": f"{SIGNUPS}/hour",
        "SPEK_RATE_CHAT": "2/minute",
    }
    with running_stack(tmp_path_factory.mktemp("limits-data"), **settings) as stack:
        yield stack


@pytest.fixture(scope="module")
def api(limited: Stack) -> GraphQLClient:
    return GraphQLClient(limited.base_url)


@pytest.fixture(scope="module")
def accounts(api: GraphQLClient) -> list[Account]:
    return [register(api), register(api)]  # two of the address's sign-ups


def refusal(body: dict) -> dict:
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED", error
    return error


def test_failed_sign_ins_lock_the_account_for_the_window_only(api: GraphQLClient, accounts: list[Account]) -> None:
    owner, other = accounts
    for _ in range(3):
        body = api.execute(LOGIN, {"e": owner.email, "p": "wrong password!"})
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # Now even the right password waits, and says how long; another account is not affected.
    error = refusal(api.execute(LOGIN, {"e": owner.email.upper(), "p": owner.password}))
    assert 1 <= error["extensions"]["retryAfter"] <= 4 and "failed sign-ins" in error["message"]
    assert api.data(LOGIN, {"e": other.email, "p": other.password})["login"]["accessToken"]
    time.sleep(error["extensions"]["retryAfter"] + 0.5)
    assert api.data(LOGIN, {"e": owner.email, "p": owner.password})["login"]["accessToken"]


def test_sign_ups_from_one_address_are_capped(api: GraphQLClient, accounts: list[Account]) -> None:
    made = len(accounts)
    while made < SIGNUPS:
        register(api)
        made += 1
    error = refusal(api.execute(REGISTER_DEVICE, {"d": "a-new-device-0123456789"}))
    assert "new accounts from your address" in error["message"] and error["extensions"]["retryAfter"] > 0
    # A forged X-Forwarded-For from an untrusted peer changes nothing.
    forged = httpx.post(
        f"{api.base_url}/graphql",
        json={"query": REGISTER_DEVICE, "variables": {"d": "another-device-0123456789"}},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert forged.status_code == 200, forged.text
    refusal(forged.json())


def test_chat_messages_are_limited_per_user(api: GraphQLClient, accounts: list[Account], limited: Stack) -> None:
    owner, other = accounts
    for n in range(2):
        # As after a restart of Redis: its scripts are gone (the limits are counted by one), and loaded again.
        redis.Redis.from_url(limited.redis_url).script_flush()
        api.data(SEND, {"c": f"question {n}"}, owner.access_token)
    refusal(api.execute(SEND, {"c": "one too many"}, owner.access_token))
    assert api.data(SEND, {"c": "mine"}, other.access_token)["sendMessage"]["id"]
    metrics = httpx.get(f"{limited.base_url}/metrics").text
    assert 'spek_rate_limited_total{limit="chat"} 1.0' in metrics
    assert 'spek_rate_limited_total{limit="login_account"}' in metrics


def test_the_client_address_comes_from_a_trusted_proxy_only() -> None:
    trusted = ["10.0.0.0/8"]
    assert client_address("198.51.100.7", "203.0.113.9", trusted) == "198.51.100.7"  # not via a proxy
    assert client_address("10.0.0.2", "203.0.113.9", trusted) == "203.0.113.9"
    # The client may prepend anything; the last hop before our proxies is the one they saw.
    assert client_address("10.0.0.2", "1.1.1.1, 203.0.113.9, 10.0.0.5", trusted) == "203.0.113.9"
    assert client_address("10.0.0.2", None, trusted) == "10.0.0.2"
    assert client_address(None, None, []) == "unknown"
