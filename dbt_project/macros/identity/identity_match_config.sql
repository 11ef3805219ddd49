{#- The identity-resolution configuration: the `identity` entry of the meta
    of model int_identity_edges_matched (file _identity__match_rules.yml),
    validated by identity_validate_match_config. Empty while dbt parses
    (the graph is only complete at execution). -#}
{% macro identity_match_config() -%}
    {{ return(adapter.dispatch('identity_match_config', 'cdp')()) }}
{%- endmacro %}

{% macro default__identity_match_config() -%}
    {%- if not execute -%}
        {{ return({'settings': {}, 'rules': []}) }}
    {%- endif -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == 'int_identity_edges_matched' -%}
            {%- do found.append(node.config.meta.get('identity', none)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if found | length == 0 or found[0] is none -%}
        {{ exceptions.raise_compiler_error(
            "identity match rules: model int_identity_edges_matched has no "
            ~ "config.meta.identity entry (see _identity__match_rules.yml)"
        ) }}
    {%- endif -%}
    {{ return(cdp.identity_validate_match_config(found[0])) }}
{%- endmacro %}
