{#- The declared identifier types, sorted and distinct. -#}
{% macro identity_declared_types() -%}
    {%- set types = [] -%}
    {%- for identifier in cdp.identity_declared_identifiers() if identifier.type not in types -%}
        {%- do types.append(identifier.type) -%}
    {%- endfor -%}
    {{ return(types | sort) }}
{%- endmacro %}
