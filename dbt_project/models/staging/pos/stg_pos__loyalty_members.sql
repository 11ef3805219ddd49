with

source as (

    select * from {{ source('pos', 'loyalty_members') }}

),

countries as (

    select * from {{ ref('country_codes') }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('loyalty_number', 'updated_at') }} as version_rank
    from source

),

renamed as (

    select
        upper(trim(loyalty_number)) as loyalty_number,
        {{ cdp.clean_name('first_name') }} as first_name,
        {{ cdp.clean_name('last_name') }} as last_name,
        {{ cdp.normalize_email('email') }} as email,
        phone as phone_raw,
        birth_date,
        nullif(upper(trim(postal_code)), '') as postal_code,
        {{ cdp.clean_name('city') }} as city,
        country_code as country_raw,
        nullif(trim(home_store_id), '') as home_store_id,
        lower(trim(tier)) as tier,
        enrolled_at,
        updated_at
    from versions
    where version_rank = 1

),

final as (

    select
        members.loyalty_number,
        members.first_name,
        members.last_name,
        members.email,
        {{ cdp.canonicalize_email('members.email') }} as email_canonical,
        {{ cdp.is_valid_email('members.email') }} as is_email_valid,
        {{ cdp.normalize_phone('members.phone_raw', 'phone_country') }} as phone_e164,
        members.phone_raw,
        members.birth_date,
        members.postal_code,
        members.city,
        address_country.country_code,
        members.home_store_id,
        members.tier,
        members.enrolled_at,
        members.updated_at
    from renamed as members
    left join countries as address_country
        on
            address_country.country_alias
            = {{ cdp.country_alias_key('members.country_raw') }}
    left join countries as phone_country
        on
            phone_country.country_alias = lower(coalesce(
                address_country.country_code,
                '{{ var("cdp__default_phone_country") }}'
            ))

)

select * from final
