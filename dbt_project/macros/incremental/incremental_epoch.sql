{#- A timestamp before anything was landed: the watermark of an empty
    incremental table. -#}
{% macro incremental_epoch() -%}
    {{ return(adapter.dispatch('incremental_epoch', 'cdp')()) }}
{%- endmacro %}

{% macro default__incremental_epoch() -%}
    cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
{%- endmacro %}
