#!/usr/bin/python
"""Call an HTTP endpoint and report status, latency and body; never fails on the answer."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: http_check
short_description: Call an HTTP endpoint and report status, latency and body
description:
  - Sends one request from the managed host and reports what came back, with the latency in
    milliseconds. An error answer or no answer is reported in the result, not raised, so a
    playbook can collect many checks before it judges them.
options:
  url:
    description: URL to call.
    type: str
    required: true
  method:
    description: HTTP method.
    type: str
    default: GET
    choices: [GET, POST]
  body:
    description: JSON body to send (POST).
    type: raw
  headers:
    description: Extra request headers.
    type: dict
    default: {}
  timeout:
    description: Seconds to wait for the answer.
    type: float
    default: 5
  expect_status:
    description: Status codes that count as healthy.
    type: list
    elements: int
    default: [200]
  url_username:
    description: User for HTTP basic auth.
    type: str
  url_password:
    description: Password for HTTP basic auth (never logged).
    type: str
  validate_certs:
    description: Check the server's TLS certificate (false for a self-signed one).
    type: bool
    default: true
attributes:
  check_mode:
    support: partial
    details: GET requests run in check mode (they change nothing); POST requests are skipped.
author: ECIS Orchestrator ops
"""

EXAMPLES = r"""
- name: Check the API's health
  ecis.orchestrator.http_check:
    url: http://10.0.0.5:8200/health
  register: health
"""

RETURN = r"""
ok:
  description: Whether the status is one of expect_status.
  type: bool
  returned: always
status:
  description: HTTP status, or -1 when no answer came.
  type: int
  returned: always
latency_ms:
  description: Time to the full answer, in milliseconds.
  type: float
  returned: always
json:
  description: The body parsed as JSON, when it is JSON.
  type: raw
  returned: when the body is JSON
error:
  description: Why no answer came.
  type: str
  returned: when no answer came
"""

import base64
import json
import ssl
import time
import urllib.error
import urllib.request

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "method": {"type": "str", "default": "GET", "choices": ["GET", "POST"]},
            "body": {"type": "raw"},
            "headers": {"type": "dict", "default": {}},
            "timeout": {"type": "float", "default": 5},
            "expect_status": {"type": "list", "elements": "int", "default": [200]},
            "url_username": {"type": "str"},
            "url_password": {"type": "str", "no_log": True},
            "validate_certs": {"type": "bool", "default": True},
        },
        required_together=[("url_username", "url_password")],
        supports_check_mode=True,
    )
    params = module.params
    if module.check_mode and params["method"] != "GET":
        module.exit_json(changed=False, skipped=True, msg="POST is not sent in check mode")
    data = None
    headers = {"Accept": "application/json", **params["headers"]}
    if params["body"] is not None:
        data = json.dumps(params["body"]).encode()
        headers["Content-Type"] = "application/json"
    if params["url_username"] is not None:
        pair = f"{params['url_username']}:{params['url_password']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    context = None if params["validate_certs"] else ssl._create_unverified_context()
    request = urllib.request.Request(
        params["url"], data=data, headers=headers, method=params["method"]
    )
    result = {"changed": False, "url": params["url"]}
    started = time.perf_counter()
    try:
        timeout = params["timeout"]
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        result.update(ok=False, status=-1, error=str(reason))
        result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        module.exit_json(**result)
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    result.update(status=status, ok=status in params["expect_status"])
    try:
        result["json"] = json.loads(body)
    except ValueError:
        result["content"] = body[:2000].decode(errors="replace")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
