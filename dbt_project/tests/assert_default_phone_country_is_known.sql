-- The country assumed for national phone numbers (var
-- cdp__default_phone_country) must be in the country_codes seed, or every
-- national number without a country of its own would come out null.
select '{{ var("cdp__default_phone_country") }}' as default_phone_country
where not exists (
    select 1
    from {{ ref('country_codes') }}
    where country_alias = lower('{{ var("cdp__default_phone_country") }}')
)
