-- Every alias row of a country repeats the same name, calling code and
-- trunk prefix, and every country can be found by its own ISO code.
with

country_codes as (

    select * from {{ ref('country_codes') }}

),

per_country as (

    select
        country_code,
        count(distinct country_name) as name_count,
        count(distinct calling_code) as calling_code_count,
        count(distinct coalesce(trunk_prefix, '')) as trunk_prefix_count,
        sum(
            case when country_alias = lower(country_code) then 1 else 0 end
        ) as own_code_alias_count
    from country_codes
    group by country_code

)

select *
from per_country
where
    name_count <> 1
    or calling_code_count <> 1
    or trunk_prefix_count <> 1
    or own_code_alias_count <> 1
    or country_code <> upper(country_code)
    or length(country_code) <> 2
