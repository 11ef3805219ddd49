{#- The reproducible date every measure and segment is computed as of
    (var cdp__as_of_date, default 2026-06-30, the sample generator's last
    day), as a date literal. Activities after the end of that day are
    ignored (future-dated events). -#}
{% macro segments_as_of_date() -%}
    {{ return(adapter.dispatch('segments_as_of_date', 'cdp')()) }}
{%- endmacro %}

{% macro default__segments_as_of_date() -%}
    cast('{{ var("cdp__as_of_date") }}' as date)
{%- endmacro %}
