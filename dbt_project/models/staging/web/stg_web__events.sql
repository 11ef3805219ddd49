{#- Incremental: each build processes only the keys landed since the last
    one (docs/incremental.md). -#}
{{ config(
    materialized=cdp.incremental_materialized(),
    unique_key='web_event_id',
    incremental_strategy='delete+insert',
    pre_hook="{{ cdp.purge_erased_rows('web_event_id', source('web', 'web_events'), 'message_id') }}",
) }}

with

source as (

    select * from {{ source('web', 'web_events') }}
    {%- if is_incremental() %}
        where {{ cdp.landed_since_last_build(
            source('web', 'web_events'), 'message_id'
        ) }}
    {%- endif %}

),

countries as (

    select * from {{ ref('country_codes') }}

),

currency_rates as (

    {{ cdp.reporting_currency_rates() }}

),

versions as (

    select
        *,
        {{ cdp.latest_version_rank('message_id') }} as version_rank
    from source

),

flattened as (

    select
        message_id as web_event_id,
        lower(trim(type)) as event_type,
        nullif(trim(event), '') as event_name,
        nullif(trim(anonymous_id), '') as anonymous_id,
        nullif(trim(user_id), '') as user_id,
        nullif(trim(session_id), '') as session_id,
        {{ adapter.quote('timestamp') }} as occurred_at,
        {{ cdp.json_extract_text('properties', 'product_id') }} as product_id,
        {{ cdp.json_extract_text('properties', 'category') }} as category,
        {{ cdp.json_extract_text('properties', 'price') }} as price_text,
        {{ cdp.json_extract_text('properties', 'currency') }} as currency_text,
        {{ cdp.json_extract_text('properties', 'order_id') }} as order_id,
        {#- Segment's libraries (through `cdp serve`) send context.page.url,
            context.userAgent, context.device.type and camelCase traits. -#}
        coalesce(
            {{ cdp.json_extract_text('context', 'page_url') }},
            {{ cdp.json_extract_text('context', 'page.url') }},
            {{ cdp.json_extract_text('properties', 'url') }}
        ) as page_url,
        coalesce(
            {{ cdp.json_extract_text('context', 'device_type') }},
            {{ cdp.json_extract_text('context', 'device.type') }}
        ) as device_type,
        coalesce(
            {{ cdp.json_extract_text('context', 'user_agent') }},
            {{ cdp.json_extract_text('context', 'userAgent') }}
        ) as user_agent,
        {{ cdp.json_extract_text('traits', 'email') }} as traits_email_raw,
        coalesce(
            {{ cdp.json_extract_text('traits', 'first_name') }},
            {{ cdp.json_extract_text('traits', 'firstName') }}
        ) as traits_first_name,
        coalesce(
            {{ cdp.json_extract_text('traits', 'last_name') }},
            {{ cdp.json_extract_text('traits', 'lastName') }}
        ) as traits_last_name,
        {{ cdp.json_extract_text('traits', 'phone') }} as traits_phone_raw,
        _loaded_at
    from versions
    where version_rank = 1

),

cleaned as (

    select
        web_event_id,
        event_type,
        event_name,
        anonymous_id,
        user_id,
        session_id,
        occurred_at,
        nullif(trim(product_id), '') as product_id,
        nullif(lower(trim(category)), '') as category,
        case
            when {{ cdp.matches_pattern('trim(price_text)', '^-?[0-9]+([.][0-9]+)?$') }}
                then cast(trim(price_text) as decimal(12, 2))
        end as product_price,
        nullif(upper(trim(currency_text)), '') as currency_code,
        nullif(trim(order_id), '') as order_id,
        nullif(trim(page_url), '') as page_url,
        nullif(lower(trim(device_type)), '') as device_type,
        nullif(trim(user_agent), '') as user_agent,
        {{ cdp.normalize_email('traits_email_raw') }} as traits_email,
        {{ cdp.clean_name('traits_first_name') }} as traits_first_name,
        {{ cdp.clean_name('traits_last_name') }} as traits_last_name,
        traits_phone_raw,
        _loaded_at
    from flattened

),

final as (

    select
        events.web_event_id,
        events.event_type,
        events.event_name,
        events.anonymous_id,
        events.user_id,
        events.session_id,
        events.occurred_at,
        events.product_id,
        events.category,
        events.product_price,
        events.currency_code,
        '{{ var("cdp__reporting_currency") }}' as reporting_currency_code,
        {{ cdp.convert_currency(
            'events.product_price', 'currency_rates.rate_to_reporting'
        ) }} as product_price_reporting,
        events.order_id,
        events.page_url,
        events.device_type,
        events.user_agent,
        events.traits_email,
        {{ cdp.canonicalize_email('events.traits_email') }}
            as traits_email_canonical,
        {{ cdp.is_valid_email('events.traits_email') }}
            as is_traits_email_valid,
        events.traits_first_name,
        events.traits_last_name,
        {{ cdp.normalize_phone(
            'events.traits_phone_raw', 'phone_country'
        ) }} as traits_phone_e164,
        events.traits_phone_raw,
        events._loaded_at,
        {{ cdp.utc_now() }} as _processed_at
    from cleaned as events
    left join currency_rates
        on events.currency_code = currency_rates.currency_code
    left join countries as phone_country
        on
            phone_country.country_alias
            = lower('{{ var("cdp__default_phone_country") }}')

)

select * from final
