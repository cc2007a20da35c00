"""Accessibility check for browser tests: axe-core (bundled by axe-playwright-python) in the page.

Usage: `assert_no_serious_violations(page)` once the screen is in the state to check. It runs
the WCAG 2.1 A/AA rules and fails with a readable list of every serious or critical violation
(rule, impact, help text and the offending elements).
"""

from axe_playwright_python.sync_playwright import Axe

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}

_axe = Axe()


def serious_violations(page, *, context: str | None = None) -> list[dict]:
    """The serious and critical axe violations on the page (or inside the `context` selector)."""
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    results = _axe.run(page, context=context, options=options)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(
                f"    {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}"
            )
    return "\n".join(lines)


def assert_no_serious_violations(page, *, context: str | None = None) -> None:
    violations = serious_violations(page, context=context)
    assert not violations, f"axe found serious/critical violations on {page.url}:\n" + describe(
        violations
    )
