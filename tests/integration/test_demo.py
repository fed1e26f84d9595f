"""The README's demo command: it starts, prints a token and a curl that works, and stops on Ctrl-C."""

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from tests.servers import free_port


def test_demo_prints_a_working_curl_and_stops_on_ctrl_c():
    port, sim_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "adapter", "demo", "--port", str(port), "--sim-port", str(sim_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("curl "):
                break
        curl = lines[-1]
        match = re.match(r'curl -H "Authorization: Bearer ([^"]+)" "([^"]+)"', curl)
        assert match, "".join(lines)
        token, url = match.groups()
        assert url.startswith(f"http://127.0.0.1:{port}/api/v2/objects?type=")
        assert f"http://127.0.0.1:{sim_port}/esuite" in "".join(lines)
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response is not None and response.status_code == 200, response and response.text
        body = response.json()
        assert body["count"] == 4
        assert all(row["url"].startswith(f"http://127.0.0.1:{port}/api/v2/objects/") for row in body["results"])
        # The seeded zaak opens in the demo: the zaak and its document's download (issue 14).
        auth = {"Authorization": f"Bearer {token}"}
        zaak = httpx.get(
            f"http://127.0.0.1:{port}/zaken/api/v1/zaken/a177c7fa-bb70-4d42-9584-6b099e87512b", headers=auth, timeout=5
        )
        assert (zaak.status_code, zaak.json()["identificatie"]) == (200, "Z25.000123")
        download = httpx.get(
            f"http://127.0.0.1:{port}/documenten/api/v1/enkelvoudiginformatieobjecten/0c8e6f0a-3d2b-4f5e-8a17-2b9c4d6e8f10/download",
            headers=auth,
            timeout=5,
        )
        assert (download.status_code, download.headers["content-type"]) == (200, "application/pdf")
        assert download.content.startswith(b"%PDF-1.4")
    finally:
        process.send_signal(signal.SIGINT)
        exit_code = process.wait(timeout=20)
        process.stdout.close()  # an open pipe is a ResourceWarning, an error under filterwarnings
    assert exit_code == 0
