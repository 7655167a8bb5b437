"""Regenerate the README's screenshots: the demo run's HTML report and its license audit, in headless Chromium.

    python3 docs/images/make_screenshots.py            # runs pipelines/demo.yaml into a temporary folder
    python3 docs/images/make_screenshots.py runs/demo  # or uses a finished run

Needs the distribution's chromium (apt-get install chromium) and playwright (the `dev` extra).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def main() -> None:
    from curate.browser_check import check_page
    from curate.report import write_report

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tmp, "demo")
        if not os.path.exists(os.path.join(run_dir, "manifest.json")):
            from curate.runner import run

            run(os.path.join(REPO, "pipelines", "demo.yaml"), output=run_dir, progress=False)
        write_report(run_dir, html=True)
        audit = os.path.join(tmp, "audit.html")
        subprocess.run(["license-registry", "audit", run_dir, "--use", "commercial", "--base-model", "llama3.2",
                        "--model-name", "Llama-Demo-1B", "--format", "html", "-o", audit], check=True)
        for page, png, height in ((os.path.join(run_dir, "report.html"), "report.png", 1500),
                                  (audit, "audit.png", 700)):
            check = check_page(page, screenshot=os.path.join(HERE, png), clip_height=height)
            if check.blank_charts or check.console_errors:
                sys.exit(f"{page}: blank charts {check.blank_charts}, console errors {check.console_errors}")
            print(f"{os.path.join(HERE, png)}: {len(check.charts)} charts drawn")


if __name__ == "__main__":
    main()
