{#- The project clock: the reproducible date every measure, prediction,
    consent state and segment is computed as of (var cdp__as_of_date,
    default 2026-06-30, the sample generator's last day), as a date literal.
    Activities after the end of that day are ignored (future-dated events).
    It is also the clock of segment_membership_history. -#}
{% macro cdp_as_of_date() -%}
    {{ return(adapter.dispatch('cdp_as_of_date', 'cdp')()) }}
{%- endmacro %}

{% macro default__cdp_as_of_date() -%}
    cast('{{ var("cdp__as_of_date") }}' as date)
{%- endmacro %}
