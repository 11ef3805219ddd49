{#- The relation `<this>__<part>` the change set (customer_change_set) kept
    from the previous build: `records` (every identity record's fingerprint
    and customer) or `state` (when that build ran, how far the activities
    were landed). None on the first build, or after the table was dropped. -#}
{% macro change_set_snapshot(part) -%}
    {{ return(adapter.dispatch('change_set_snapshot', 'cdp')(part)) }}
{%- endmacro %}

{% macro default__change_set_snapshot(part) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=this.database, schema=this.schema, identifier=this.identifier ~ '__' ~ part
    )) }}
{%- endmacro %}
