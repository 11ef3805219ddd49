{#- The current time in UTC as a timestamp without zone (the convention of
    every `_at` column): when an incremental model processed a row. -#}
{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'cdp')()) }}
{%- endmacro %}

{% macro default__utc_now() -%}
    cast(current_timestamp at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro spark__utc_now() -%}
    to_utc_timestamp(current_timestamp(), current_timezone())
{%- endmacro %}
