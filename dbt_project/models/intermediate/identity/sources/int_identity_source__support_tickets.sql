{#- Requesters type their name freely: 'John Smith', 'smith, john', 'J. Smith'
    or a first name only. 'last, first' is turned around; one word is a first
    name. An order number quoted in the subject ('#3421966733') is kept as an
    external id. -#}
with

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

names_split as (

    select
        *,
        case
            when requester_name like '%,%'
                then trim({{ dbt.split_part('requester_name', "','", 2) }})
            else {{ dbt.split_part('requester_name', "' '", 1) }}
        end as parsed_first_name,
        case
            when requester_name like '%,%'
                then trim({{ dbt.split_part('requester_name', "','", 1) }})
            when requester_name like '% %'
                then trim(substr(
                    requester_name, {{ dbt.position("' '", 'requester_name') }} + 1
                ))
        end as parsed_last_name
    from tickets

),

final as (

    select
        cast('support_tickets' as {{ dbt.type_string() }}) as source_name,
        cast(ticket_id as {{ dbt.type_string() }}) as source_record_id,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        requester_email as email,
        requester_phone_e164 as phone_e164,
        cast(null as {{ dbt.type_string() }}) as secondary_phone_e164,
        nullif(parsed_first_name, '') as first_name,
        nullif(parsed_last_name, '') as last_name,
        cast(null as date) as birth_date,
        cast(null as {{ dbt.type_string() }}) as address_line_1,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ dbt.type_string() }}) as loyalty_number,
        cast(null as {{ dbt.type_string() }}) as shop_customer_id,
        {{ cdp.identity_regexp_extract('subject', '#([0-9]{6,})') }} as shop_order_id,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id,
        cast(null as {{ dbt.type_string() }}) as email_subscriber_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id
    from names_split

)

select * from final
