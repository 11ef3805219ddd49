with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

final as (

    select
        cast('shop_customers' as {{ dbt.type_string() }}) as source_name,
        cast(customer_id as {{ dbt.type_string() }}) as source_record_id,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        email,
        phone_e164,
        cast(null as {{ dbt.type_string() }}) as secondary_phone_e164,
        first_name,
        last_name,
        birth_date,
        address_line_1,
        postal_code,
        city,
        country_code,
        cast(null as {{ dbt.type_string() }}) as loyalty_number,
        cast(customer_id as {{ dbt.type_string() }}) as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as shop_order_id,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as email_subscriber_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id
    from customers

)

select * from final
