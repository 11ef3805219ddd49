"""The demo's destinations: contract servers on fixed localhost ports.

`syncs.yml` at the repository root syncs the example segments to these, so
`make demo` (`cdp run --demo-destinations`) and `make dev` (`cdp demo-destinations`
beside the Dagster UI) show audiences leaving the warehouse over real HTTP
without any SaaS account. The secrets are demo values, put in the environment
only by the demo commands and only where the variable is not already set; other
processes (the Dagster UI of `make dev`) get them from `cdp demo-destinations
--print-env`.

Ports: CDP_DEMO_PORT_BASE (default 8701) for Mailchimp, +1 HubSpot, +2 webhook.
"""

from __future__ import annotations

import os
import shlex
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from cdp_demo.contract_servers.hubspot import HubSpotContractServer
from cdp_demo.contract_servers.mailchimp import MailchimpContractServer
from cdp_demo.contract_servers.server import ContractServer
from cdp_demo.contract_servers.webhook import WebhookContractServer
from reverse_etl.errors import ConfigError

DEMO_SECRETS = {
    "CDP_DEMO_MAILCHIMP_API_KEY": "d3m0d3m0d3m0d3m0d3m0d3m0d3m0d3m0-us1",
    "CDP_DEMO_HUBSPOT_TOKEN": "pat-na1-00000000-demo-0000-0000-000000000000",
    "CDP_DEMO_WEBHOOK_SECRET": "whsec-demo-not-a-real-secret",
}
DEMO_MAILCHIMP_LIST = "demo0list1"
DEMO_MAILCHIMP_TAGS = ("Retention offer",)
DEMO_HUBSPOT_LISTS = ("101",)


def port_base() -> int:
    value = os.environ.get("CDP_DEMO_PORT_BASE", "8701")
    if not value.isdigit() or not 1024 <= int(value) <= 65533:
        raise ConfigError(f"CDP_DEMO_PORT_BASE: expected a port 1024-65533, got {value!r}")
    return int(value)


def _check_free(port: int, name: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise ConfigError(
                f"demo {name} destination: port {port} on 127.0.0.1 is already in use "
                "(another `cdp demo-destinations`?); stop it, or set CDP_DEMO_PORT_BASE "
                "and change the URLs in syncs.yml to match"
            )


def set_demo_secrets() -> None:
    """Put the demo's (non-)secrets in this process's environment where unset, so
    its syncs reach the demo destinations. They open nothing but these local servers."""
    for variable, value in DEMO_SECRETS.items():
        os.environ.setdefault(variable, value)


def demo_secrets_shell() -> str:
    """`export NAME=value` lines for a POSIX shell, one per demo secret (a variable
    already set in this environment keeps its value), for `eval` by `make dev`."""
    return "\n".join(
        f"export {variable}={shlex.quote(os.environ.get(variable, value))}"
        for variable, value in DEMO_SECRETS.items()
    )


@contextmanager
def demo_destinations() -> Iterator[dict[str, ContractServer]]:
    """Start the demo contract servers; yields name -> server, stops them on exit."""
    set_demo_secrets()
    base = port_base()
    servers: dict[str, ContractServer] = {
        "mailchimp": MailchimpContractServer(
            os.environ["CDP_DEMO_MAILCHIMP_API_KEY"],
            list_id=DEMO_MAILCHIMP_LIST,
            tags=DEMO_MAILCHIMP_TAGS,
        ),
        "hubspot": HubSpotContractServer(
            os.environ["CDP_DEMO_HUBSPOT_TOKEN"], list_ids=DEMO_HUBSPOT_LISTS
        ),
        "webhook": WebhookContractServer(os.environ["CDP_DEMO_WEBHOOK_SECRET"]),
    }
    with ExitStack() as stack:
        for offset, (name, server) in enumerate(servers.items()):
            server.port = base + offset
            _check_free(server.port, name)
            stack.enter_context(server)
        yield servers
