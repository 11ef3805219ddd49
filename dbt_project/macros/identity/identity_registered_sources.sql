{#- Names of the models registered as identity sources (config.meta
    identity_source: true), sorted. At parse time, when the graph is not
    known yet, an empty list. At execution they must agree with the models
    the calling model lists with `depends_on`, otherwise the build stops naming the
    model to register or to list. -#}
{% macro identity_registered_sources() -%}
    {{ return(adapter.dispatch('identity_registered_sources', 'cdp')()) }}
{%- endmacro %}

{% macro default__identity_registered_sources() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set listed = [] -%}
    {%- for parent in model.depends_on.nodes -%}
        {%- do listed.append(parent.split('.')[-1]) -%}
    {%- endfor -%}
    {%- set registered = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.meta.get('identity_source') -%}
            {%- do registered.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in registered if name not in listed -%}
        {{ exceptions.raise_compiler_error(
            "identity source '" ~ name ~ "' is registered (meta identity_source: true) but "
            ~ model.name ~ " does not list it: add the line "
            ~ "-- depends_on: {{ ref('" ~ name ~ "') }}"
        ) }}
    {%- endfor -%}
    {%- for name in listed if name not in registered -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ " lists '" ~ name ~ "' but it is not registered as an identity source "
            ~ "(set config.meta.identity_source: true in its YAML)"
        ) }}
    {%- endfor -%}
    {{ return(registered | sort) }}
{%- endmacro %}
