"""`GET /api/schema`: the adapter's own OpenAPI document, YAML (kiss-front.md §1 route 4, §7).

The canonical file is `contracts/kiss-front.openapi.yaml` in the repository. The package carries
a byte-identical copy next to this module (`kiss-front.openapi.yaml`, packaged through
`[tool.setuptools.package-data]`), so the installed adapter serves it without the repository;
tests/contract/test_schema_endpoint.py fails when the two differ.
"""

from __future__ import annotations

import functools
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

DOCUMENT = "kiss-front.openapi.yaml"
MEDIA_TYPE = "application/yaml"


@functools.cache
def document() -> bytes:
    return resources.files(__package__).joinpath(DOCUMENT).read_bytes()


async def api_schema(request: Request) -> Response:
    return Response(document(), media_type=MEDIA_TYPE)
