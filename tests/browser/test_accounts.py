"""Signing up, in and out in the browser: readable errors, the keyboard alone, a phone-sized screen,
and a session that outlives its short access token."""

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import ACCESS_TOKEN_TTL_SECONDS
from tests.browser.ui import PASSWORD, PHONE, screenshot, sign_up, stored_session
from tests.support import GraphQLClient, register

REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"


def test_wrong_password_shows_the_servers_message(page: Page, api: GraphQLClient) -> None:
    account = register(api)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"#/sign-in$"))
    screenshot(page, "sign-in")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="Wrong email or password.")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_focused()  # ready for another try
    assert stored_session(page) is None


def test_unreachable_server_is_said_plainly(page: Page, api: GraphQLClient) -> None:
    page.goto("/#/sign-in")
    page.route("**/graphql", lambda route: route.abort("connectionrefused"))
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="Cannot reach the server")).to_be_visible()


def focus_ring(page: Page) -> dict:
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) }; }"""
    )


def test_sign_in_with_the_keyboard_alone_on_a_phone(page: Page, api: GraphQLClient) -> None:
    account = register(api)
    page.set_viewport_size(PHONE)
    page.goto("/#/sign-in")
    expect(page.get_by_label("Email")).to_be_focused()

    # Tab order follows the form, and every stop shows a focus ring.
    page.keyboard.type(account.email)
    stops = []
    for _ in range(3):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.id || document.activeElement.textContent"))
        ring = focus_ring(page)
        assert ring["style"] != "none" and ring["width"] >= 2, (stops[-1], ring)
    assert stops == ["password", "Sign in", "Create an account"]

    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Upload recordings")).to_be_visible()
    expect(page.get_by_text(account.email)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling


def test_session_outlives_its_access_token_until_sign_out(page: Page, api: GraphQLClient) -> None:
    sign_up(page)
    first = stored_session(page)
    # Past the access token's life: the next request must refresh it (rotating the refresh token) first.
    time.sleep(ACCESS_TOKEN_TTL_SECONDS + 0.5)
    page.get_by_label("New notebook").fill("Lectures")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("button", name="Lectures")).to_be_visible()
    assert stored_session(page)["refreshToken"] != first["refreshToken"]
    page.reload()
    expect(page.get_by_role("button", name="Lectures")).to_be_visible()

    last = stored_session(page)["refreshToken"]
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Spek")).to_be_visible()
    assert stored_session(page) is None
    assert api.error_code(REFRESH, {"t": last}) == "UNAUTHENTICATED"  # ended on the server too
