"""The cdp demo: everything `make demo` and the tests use that the product does not ship.

sample_data/       the sample-data generator (`cdp generate`, `cdp run`)
contract_servers/  local HTTP servers enforcing each SaaS destination's API contract
destinations.py    the demo's destinations and their demo secrets (`cdp demo-destinations`,
                   `cdp run --demo-destinations`)

A separate distribution (`cdp-demo`, demo/pyproject.toml): the `cdp` command imports
it only inside those demo commands.
"""
