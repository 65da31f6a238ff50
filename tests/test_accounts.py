import asyncio
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from spek.accounts.passwords import hash_password, hash_password_in_thread, verify_password_in_thread
from spek.accounts.tokens import load_signing_secret
from spek.settings import Settings
from tests.support import REGISTER, Account, GraphQLClient, register, run_async

LOGIN = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken refreshToken user { id email } } }"
REFRESH = "mutation($token: String!) { refreshToken(refreshToken: $token) { accessToken refreshToken expiresIn user { id } } }"
LOGOUT = "mutation($token: String!) { logout(refreshToken: $token) }"
ME = "{ me { id email deviceId displayName createdAt } }"
DEVICE = (
    "mutation($id: String!) { registerDevice(deviceId: $id) { accessToken refreshToken user { id deviceId email } } }"
)


def test_register_then_me(client: GraphQLClient) -> None:
    payload = client.data(
        REGISTER, {"email": "  Mixed.Case@Example.com ", "password": "long enough", "displayName": "Ada"}
    )["register"]
    assert payload["tokenType"] == "Bearer"
    assert payload["expiresIn"] == 900
    assert payload["user"]["email"] == "mixed.case@example.com"
    me = client.data(ME, token=payload["accessToken"])["me"]
    assert me["id"] == payload["user"]["id"]
    assert me["displayName"] == "Ada"
    assert datetime.fromisoformat(me["createdAt"]).tzinfo is not None


def test_register_rejects_bad_input(client: GraphQLClient) -> None:
    bad_email = client.execute(REGISTER, {"email": "not-an-email", "password": "long enough"})
    assert bad_email["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "email" in bad_email["errors"][0]["message"]
    short = client.execute(REGISTER, {"email": "short@example.com", "password": "1234567"})
    assert short["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at least 8 characters" in short["errors"][0]["message"]


def test_register_twice_is_a_conflict(client: GraphQLClient, alice: Account) -> None:
    assert client.error_code(REGISTER, {"email": alice.email.upper(), "password": "another one"}) == "CONFLICT"


def test_login_with_email_in_any_case(client: GraphQLClient, alice: Account) -> None:
    payload = client.data(LOGIN, {"email": alice.email.upper(), "password": alice.password})["login"]
    assert payload["user"]["id"] == alice.id


def test_unknown_email_and_wrong_password_look_the_same(client: GraphQLClient, alice: Account) -> None:
    def attempt(email: str) -> tuple[dict, float]:
        started = time.perf_counter()
        body = client.execute(LOGIN, {"email": email, "password": "wrong password"})
        return body["errors"][0], time.perf_counter() - started

    wrong_password = [attempt(alice.email) for _ in range(5)]
    unknown_email = [attempt("nobody-" + alice.email) for _ in range(5)]
    assert wrong_password[0][0]["message"] == unknown_email[0][0]["message"]
    assert wrong_password[0][0]["extensions"] == unknown_email[0][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    ratio = statistics.median(t for _, t in wrong_password) / statistics.median(t for _, t in unknown_email)
    assert 0.5 < ratio < 2.0, ratio


def test_me_needs_a_valid_token(client: GraphQLClient, alice: Account) -> None:
    assert client.error_code(ME) == "UNAUTHENTICATED"
    assert client.error_code(ME, token="garbage") == "UNAUTHENTICATED"
    claims = jwt.decode(alice.access_token, options={"verify_signature": False})
    forged = jwt.encode(claims, "a secret we guessed, long enough to look real", algorithm="HS256")
    assert client.error_code(ME, token=forged) == "UNAUTHENTICATED"
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert client.error_code(ME, token=unsigned) == "UNAUTHENTICATED"


def test_expired_access_token_is_refused(client: GraphQLClient, alice: Account, stack) -> None:
    secret = (stack.data_dir / "jwt-secret").read_text().strip()
    claims = jwt.decode(alice.access_token, secret, algorithms=["HS256"], issuer="spek")
    claims["exp"] = datetime.now(UTC) - timedelta(seconds=5)
    expired = jwt.encode(claims, secret, algorithm="HS256")
    body = client.execute(ME, token=expired)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in body["errors"][0]["message"]
    # The same claims, still valid, are accepted: the secret really is the one the server uses.
    claims["exp"] = datetime.now(UTC) + timedelta(minutes=5)
    assert client.data(ME, token=jwt.encode(claims, secret, algorithm="HS256"))["me"]["id"] == alice.id


def test_a_token_stops_working_when_it_expires(client: GraphQLClient, alice: Account, stack) -> None:
    """A token's signature is checked once and remembered; its expiry is checked at every use."""
    secret = (stack.data_dir / "jwt-secret").read_text().strip()
    claims = jwt.decode(alice.access_token, secret, algorithms=["HS256"], issuer="spek")
    claims["exp"] = datetime.now(UTC) + timedelta(seconds=2)
    token = jwt.encode(claims, secret, algorithm="HS256")
    assert client.data(ME, token=token)["me"]["id"] == alice.id
    assert client.data(ME, token=token)["me"]["id"] == alice.id
    time.sleep(max(0.0, claims["exp"].timestamp() - time.time()) + 0.1)
    body = client.execute(ME, token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and "expired" in body["errors"][0]["message"]


def test_refresh_rotates(client: GraphQLClient, alice: Account) -> None:
    rotated = client.data(REFRESH, {"token": alice.refresh_token})["refreshToken"]
    assert rotated["user"]["id"] == alice.id
    assert rotated["refreshToken"] != alice.refresh_token
    assert client.data(ME, token=rotated["accessToken"])["me"]["id"] == alice.id
    # The old refresh token is spent; presenting it again revokes the whole chain.
    assert client.error_code(REFRESH, {"token": alice.refresh_token}) == "UNAUTHENTICATED"
    assert client.error_code(REFRESH, {"token": rotated["refreshToken"]}) == "UNAUTHENTICATED"


def test_access_token_is_not_a_refresh_token(client: GraphQLClient, alice: Account) -> None:
    assert client.error_code(REFRESH, {"token": alice.access_token}) == "UNAUTHENTICATED"


def test_logout_ends_that_sign_in_only(client: GraphQLClient, alice: Account) -> None:
    other_sign_in = client.data(LOGIN, {"email": alice.email, "password": alice.password})["login"]
    assert client.data(LOGOUT, {"token": alice.refresh_token})["logout"] is True
    assert client.data(LOGOUT, {"token": alice.refresh_token})["logout"] is False
    assert client.error_code(REFRESH, {"token": alice.refresh_token}) == "UNAUTHENTICATED"
    assert client.data(REFRESH, {"token": other_sign_in["refreshToken"]})["refreshToken"]["user"]["id"] == alice.id


def test_register_device_signs_in_the_same_account_again(client: GraphQLClient) -> None:
    device_id = "3f1c9a0e-5b7d-4e2a-9c1f-0d8e7b6a5c4d"
    first = client.data(DEVICE, {"id": device_id})["registerDevice"]
    second = client.data(DEVICE, {"id": device_id})["registerDevice"]
    assert first["user"]["id"] == second["user"]["id"]
    assert first["user"]["deviceId"] == device_id and first["user"]["email"] is None
    assert client.data(ME, token=second["accessToken"])["me"]["deviceId"] == device_id
    assert client.data(REFRESH, {"token": first["refreshToken"]})["refreshToken"]["user"]["id"] == first["user"]["id"]


def test_register_device_needs_a_long_random_id(client: GraphQLClient) -> None:
    body = client.execute(DEVICE, {"id": "1234"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "random UUID" in body["errors"][0]["message"]


def test_device_accounts_and_email_accounts_are_apart(client: GraphQLClient) -> None:
    account = register(client)
    device = client.data(DEVICE, {"id": "device-" + account.id})["registerDevice"]
    assert device["user"]["id"] != account.id


def test_password_hashing_leaves_the_event_loop_free() -> None:
    """Argon2 takes a fraction of a second per call: the API's other requests go on meanwhile (in the event
    loop it stalled them all: a load test saw `me` p50 go from 10 ms to 280 ms while two clients signed in)."""
    stored = hash_password("correct horse battery")

    async def run() -> tuple[list[bool], int]:
        ticks, done = 0, False

        async def ticker() -> None:
            nonlocal ticks
            while not done:
                await asyncio.sleep(0.001)
                ticks += 1

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = ticks
        fresh = await hash_password_in_thread("another password")
        results = [
            await verify_password_in_thread(stored, "correct horse battery"),
            await verify_password_in_thread(stored, "wrong horse battery"),
            await verify_password_in_thread(None, "correct horse battery"),
            await verify_password_in_thread(fresh, "another password"),
        ]
        during = ticks - before
        done = True
        await task
        return results, during

    results, ticks = run_async(run())
    assert results == [True, False, False, True]
    assert ticks >= 10, f"the event loop ran only {ticks} times during five Argon2 calls"


def test_a_generated_secret_is_whole_for_processes_starting_together(tmp_path: Path) -> None:
    """API and worker start together on a new data dir: both must sign with the same, complete secret."""
    settings = Settings(SPEK_DATA_DIR=str(tmp_path), SPEK_JWT_SECRET=None)
    start = threading.Barrier(16)

    def load() -> str:
        start.wait()
        return load_signing_secret(settings)

    with ThreadPoolExecutor(16) as pool:
        secrets = list(pool.map(lambda _: load(), range(16)))
    assert len(secrets[0]) >= 48 and set(secrets) == {secrets[0]}
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["jwt-secret"]
