{#- Benchmark-only identity source: FEBRL people on the canonical person
    schema. soc_sec_id is declared in YAML (meta cdp_identity of
    stg_febrl__people) as the identifier type national_id, so it needs no
    column here; address_2 and state have none. -#}
with

people as (

    select * from {{ ref('stg_febrl__people') }}

),

final as (

    select
        cast('febrl_people' as {{ dbt.type_string() }}) as source_name,
        cast(rec_id as {{ dbt.type_string() }}) as source_record_id,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as phone_e164,
        cast(null as {{ dbt.type_string() }}) as secondary_phone_e164,
        first_name,
        last_name,
        birth_date,
        street as address_line_1,
        postcode as postal_code,
        suburb as city,
        cast('AU' as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ dbt.type_string() }}) as loyalty_number,
        cast(null as {{ dbt.type_string() }}) as shop_customer_id,
        cast(null as {{ dbt.type_string() }}) as shop_order_id,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as email_subscriber_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id
    from people

)

select * from final
