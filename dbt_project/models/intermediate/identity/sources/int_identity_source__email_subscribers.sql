with

subscribers as (

    select * from {{ ref('stg_email__subscribers') }}

),

final as (

    select
        cast('email_subscribers' as {{ dbt.type_string() }}) as source_name,
        cast(subscriber_id as {{ dbt.type_string() }}) as source_record_id,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        email,
        phone_e164,
        cast(null as {{ dbt.type_string() }}) as secondary_phone_e164,
        first_name,
        last_name,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as address_line_1,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ dbt.type_string() }}) as loyalty_number,
        cast(null as {{ dbt.type_string() }}) as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as shop_order_id,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        cast(subscriber_id as {{ dbt.type_string() }}) as email_subscriber_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id
    from subscribers

)

select * from final
