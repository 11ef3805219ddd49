{#- One record per anonymous id (a browser or app install). Its identity is
    what its identify events said: the shop customer id sent as user_id and
    the traits of the latest identify, and an order it completed (a guest
    checkout links the device to the order's email). Past events of the device join the
    person through the anonymous id, whenever the identify happened. -#}
with

events as (

    select * from {{ ref('stg_web__events') }}

),

devices as (

    select
        anonymous_id,
        max(occurred_at) as last_event_at,
        max(user_id) as user_id,
        max(order_id) as order_id
    from events
    where anonymous_id is not null
    group by anonymous_id

),

identifies_ranked as (

    select
        anonymous_id,
        traits_email,
        traits_phone_e164,
        traits_first_name,
        traits_last_name,
        row_number() over (
            partition by anonymous_id
            order by occurred_at desc, web_event_id desc
        ) as identify_rank
    from events
    where event_type = 'identify' and anonymous_id is not null

),

latest_identifies as (

    select * from identifies_ranked
    where identify_rank = 1

),

final as (

    select
        cast('web_events' as {{ dbt.type_string() }}) as source_name,
        cast(devices.anonymous_id as {{ dbt.type_string() }}) as source_record_id,
        cast(devices.last_event_at as {{ dbt.type_timestamp() }}) as updated_at,
        latest_identifies.traits_email as email,
        latest_identifies.traits_phone_e164 as phone_e164,
        cast(null as {{ dbt.type_string() }}) as secondary_phone_e164,
        latest_identifies.traits_first_name as first_name,
        latest_identifies.traits_last_name as last_name,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as address_line_1,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ dbt.type_string() }}) as loyalty_number,
        cast(devices.user_id as {{ dbt.type_string() }}) as shop_customer_id,
        cast(devices.order_id as {{ dbt.type_string() }}) as shop_order_id,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as email_subscriber_id,
        cast(devices.anonymous_id as {{ dbt.type_string() }}) as anonymous_id
    from devices
    left join latest_identifies
        on devices.anonymous_id = latest_identifies.anonymous_id

)

select * from final
