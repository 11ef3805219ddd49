with

source as (

    select * from {{ source('shop', 'shop_customers') }}

),

countries as (

    select * from {{ ref('country_codes') }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('customer_id', 'updated_at') }} as version_rank
    from source

),

renamed as (

    select
        customer_id,
        {{ cdp.normalize_email('email') }} as email,
        {{ cdp.clean_name('first_name') }} as first_name,
        {{ cdp.clean_name('last_name') }} as last_name,
        phone as phone_raw,
        birth_date,
        {{ cdp.clean_name('address_line1') }} as address_line_1,
        {{ cdp.clean_name('city') }} as city,
        nullif(upper(trim(postal_code)), '') as postal_code,
        country_code as country_raw,
        accepts_marketing as is_accepting_marketing,
        created_at,
        updated_at
    from versions
    where version_rank = 1

),

final as (

    select
        customers.customer_id,
        customers.email,
        {{ cdp.canonicalize_email('customers.email') }} as email_canonical,
        {{ cdp.is_valid_email('customers.email') }} as is_email_valid,
        customers.first_name,
        customers.last_name,
        {{ cdp.normalize_phone('customers.phone_raw', 'phone_country') }} as phone_e164,
        customers.phone_raw,
        customers.birth_date,
        customers.address_line_1,
        customers.city,
        customers.postal_code,
        address_country.country_code,
        customers.is_accepting_marketing,
        customers.created_at,
        customers.updated_at
    from renamed as customers
    left join countries as address_country
        on
            address_country.country_alias
            = {{ cdp.country_alias_key('customers.country_raw') }}
    left join countries as phone_country
        on
            phone_country.country_alias = lower(coalesce(
                address_country.country_code,
                '{{ var("cdp__default_phone_country") }}'
            ))

)

select * from final
