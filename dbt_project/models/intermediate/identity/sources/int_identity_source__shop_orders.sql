{#- Every order is a person-bearing record: account orders carry the shop
    customer id, guest checkouts only the email typed at checkout. -#}
with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

final as (

    select
        cast('shop_orders' as {{ dbt.type_string() }}) as source_name,
        cast(order_id as {{ dbt.type_string() }}) as source_record_id,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        email,
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
        cast(customer_id as {{ dbt.type_string() }}) as shop_customer_id,
        cast(order_id as {{ dbt.type_string() }}) as shop_order_id,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as email_subscriber_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id
    from orders

)

select * from final
