with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

final as (

    select
        cast('crm_contacts' as {{ dbt.type_string() }}) as source_name,
        cast(contact_id as {{ dbt.type_string() }}) as source_record_id,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        email,
        coalesce(mobile_phone_e164, phone_e164) as phone_e164,
        case
            when mobile_phone_e164 is not null then phone_e164
        end as secondary_phone_e164,
        first_name,
        last_name,
        birth_date,
        mailing_street as address_line_1,
        mailing_postal_code as postal_code,
        mailing_city as city,
        mailing_country_code as country_code,
        {{ cdp.regexp_replace_all('loyalty_number', '\s+', '') }} as loyalty_number,
        cast(shop_customer_id as {{ dbt.type_string() }}) as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as shop_order_id,
        cast(contact_id as {{ dbt.type_string() }}) as crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as email_subscriber_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id
    from contacts

)

select * from final
