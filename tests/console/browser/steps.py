"""What a person does in a browser test, counted: the fast-path targets are step counts."""

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
