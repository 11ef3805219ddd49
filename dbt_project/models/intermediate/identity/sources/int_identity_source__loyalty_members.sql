with

members as (

    select * from {{ ref('stg_pos__loyalty_members') }}

),

final as (

    select
        cast('loyalty_members' as {{ dbt.type_string() }}) as source_name,
        cast(loyalty_number as {{ dbt.type_string() }}) as source_record_id,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        email,
        phone_e164,
        cast(null as {{ dbt.type_string() }}) as secondary_phone_e164,
        first_name,
        last_name,
        birth_date,
        cast(null as {{ dbt.type_string() }}) as address_line_1,
        postal_code,
        city,
        country_code,
        cast(loyalty_number as {{ dbt.type_string() }}) as loyalty_number,
        cast(null as {{ dbt.type_string() }}) as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as shop_order_id,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as email_subscriber_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id
    from members

)

select * from final
