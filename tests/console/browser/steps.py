"""What a person does in a browser test, counted: the fast-path targets are step counts;
and the staff sign-in the tests start from."""

import re

from playwright.sync_api import expect

from portal.models import StaffTotpDevice
from tests.console.conftest import PASSWORD, totp_now

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


class Steps:
    """Counts what a person does: each typed entry, each key pressed, each click, each
    field filled is one step."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def type(self, text: str):
        self.count += 1
        self.page.keyboard.type(text)

    def press(self, key: str):
        self.count += 1
        self.page.keyboard.press(key)

    def click(self, locator):
        self.count += 1
        locator.click()

    def fill(self, locator, text):
        self.count += 1
        locator.fill(text)


def sign_in(page, live_server, user):
    """Sign `user` (staff, authenticator confirmed) in through the console's front door:
    password, then the app's code; returns on the dashboard."""
    page.goto(f"{live_server.url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    device = StaffTotpDevice.objects.get(user=user, confirmed=True)
    page.get_by_label("Code from your authenticator app").fill(totp_now(device))
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page).to_have_url(re.compile(r"/console/$"))


def sign_in_fresh(browser, live_server, user):
    """`sign_in` in a browser context of its own (a second person at another computer);
    returns the context, for the caller to close, and its page."""
    context = browser.new_context(viewport=LAPTOP, reduced_motion="reduce")
    page = context.new_page()
    sign_in(page, live_server, user)
    return context, page
