{#- Select statement with one row per currency of the currency_rates seed:
    currency_code and rate_to_reporting, the factor that turns an amount in
    that currency into the reporting currency (var cdp__reporting_currency).
    Use it as a CTE and left join on the currency code. -#}
{% macro reporting_currency_rates() -%}
    {{ return(adapter.dispatch('reporting_currency_rates', 'cdp')()) }}
{%- endmacro %}

{% macro default__reporting_currency_rates() -%}
    select
        currency_rates.currency_code,
        cast(
            reporting_currency.units_per_eur / currency_rates.units_per_eur
            as decimal(20, 10)
        ) as rate_to_reporting
    from {{ ref('currency_rates') }} as currency_rates
    inner join {{ ref('currency_rates') }} as reporting_currency
        on reporting_currency.currency_code = '{{ var("cdp__reporting_currency") }}'
{%- endmacro %}
