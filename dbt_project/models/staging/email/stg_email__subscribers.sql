with

source as (

    select * from {{ source('email', 'email_subscribers') }}

),

countries as (

    select * from {{ ref('country_codes') }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('subscriber_id', 'updated_at') }} as version_rank
    from source

),

renamed as (

    select
        subscriber_id,
        {{ cdp.normalize_email('email_address') }} as email,
        {{ cdp.clean_name('first_name') }} as first_name,
        {{ cdp.clean_name('last_name') }} as last_name,
        phone as phone_raw,
        lower(trim(status)) as status,
        opted_in_at,
        confirmed_at,
        nullif(lower(trim(language)), '') as language_code,
        updated_at
    from versions
    where version_rank = 1

),

final as (

    select
        subscribers.subscriber_id,
        subscribers.email,
        {{ cdp.canonicalize_email('subscribers.email') }} as email_canonical,
        {{ cdp.is_valid_email('subscribers.email') }} as is_email_valid,
        subscribers.first_name,
        subscribers.last_name,
        {{ cdp.normalize_phone('subscribers.phone_raw', 'phone_country') }} as phone_e164,
        subscribers.phone_raw,
        subscribers.status,
        subscribers.status = 'subscribed' as is_subscribed,
        subscribers.opted_in_at,
        subscribers.confirmed_at,
        subscribers.confirmed_at is not null as is_opt_in_confirmed,
        subscribers.language_code,
        subscribers.updated_at
    from renamed as subscribers
    left join countries as phone_country
        on
            phone_country.country_alias
            = lower('{{ var("cdp__default_phone_country") }}')

)

select * from final
