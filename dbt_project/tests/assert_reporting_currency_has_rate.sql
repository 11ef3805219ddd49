-- The reporting currency (var cdp__reporting_currency) needs a rate in the
-- currency_rates seed, or no amount can be converted.
select '{{ var("cdp__reporting_currency") }}' as reporting_currency
where not exists (
    select 1
    from {{ ref('currency_rates') }}
    where currency_code = '{{ var("cdp__reporting_currency") }}'
)
