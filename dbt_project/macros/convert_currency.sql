{#- Amount converted with a rate from reporting_currency_rates(), rounded to
    cents; null when the amount or the rate is missing. -#}
{% macro convert_currency(amount_expression, rate_expression) -%}
    {{ return(adapter.dispatch('convert_currency', 'cdp')(amount_expression, rate_expression)) }}
{%- endmacro %}

{% macro default__convert_currency(amount_expression, rate_expression) -%}
    cast(round({{ amount_expression }} * {{ rate_expression }}, 2) as decimal(14, 2))
{%- endmacro %}
