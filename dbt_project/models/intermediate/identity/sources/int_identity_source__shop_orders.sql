{#- Every order is a person-bearing record: account orders carry the shop
    customer id, guest checkouts only the email typed at checkout. An order
    completed on the web shop also carries the web/app device (anonymous id)
    whose event stream reported it (the earliest one, should several), so
    every checkout of a device joins it, not only the one order the device
    record names. -#}
with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

order_devices_ranked as (

    select
        order_id,
        anonymous_id,
        row_number() over (
            partition by order_id
            order by occurred_at asc, anonymous_id asc
        ) as device_rank
    from web_events
    where order_id is not null and anonymous_id is not null

),

order_devices as (

    select
        order_id,
        anonymous_id
    from order_devices_ranked
    where device_rank = 1

),

final as (

    select
        cast('shop_orders' as {{ dbt.type_string() }}) as source_name,
        cast(orders.order_id as {{ dbt.type_string() }}) as source_record_id,
        cast(orders.updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        orders.email,
        cast(null as {{ dbt.type_string() }}) as phone_e164,
        cast(null as {{ dbt.type_string() }}) as secondary_phone_e164,
        cast(null as {{ dbt.type_string() }}) as first_name,
        cast(null as {{ dbt.type_string() }}) as last_name,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as address_line_1,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ dbt.type_string() }}) as loyalty_number,
        cast(orders.customer_id as {{ dbt.type_string() }}) as shop_customer_id,
        cast(orders.order_id as {{ dbt.type_string() }}) as shop_order_id,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as email_subscriber_id,
        cast(order_devices.anonymous_id as {{ dbt.type_string() }}) as anonymous_id
    from orders
    left join order_devices
        on
            cast(orders.order_id as {{ dbt.type_string() }})
            = cast(order_devices.order_id as {{ dbt.type_string() }})

)

select * from final
