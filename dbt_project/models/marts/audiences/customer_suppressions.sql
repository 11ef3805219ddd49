{#- Customers on the global do-not-contact list: every identifier of the
    seed suppression_list resolved through customer_identifiers (or given as
    a customer id). One row per customer; the earliest entry's reason. -#}
with

suppression_list as (

    select * from {{ ref('suppression_list') }}

),

identifiers as (

    select * from {{ ref('customer_identifiers') }}

),

customers as (

    select customer_id from {{ ref('customers') }}

),

by_identifier as (

    select
        identifiers.customer_id,
        suppression_list.reason,
        suppression_list.added_on
    from suppression_list
    inner join identifiers
        on
            suppression_list.identifier_type = identifiers.identifier_type
            and (
                case
                    when suppression_list.identifier_type = 'email'
                        then lower(trim(suppression_list.identifier_value))
                    else trim(suppression_list.identifier_value)
                end
            ) = identifiers.identifier_value
    where suppression_list.identifier_type in ('email', 'phone')

),

by_customer_id as (

    select
        customers.customer_id,
        suppression_list.reason,
        suppression_list.added_on
    from suppression_list
    inner join customers
        on trim(suppression_list.identifier_value) = customers.customer_id
    where suppression_list.identifier_type = 'customer_id'

),

matched as (

    select * from by_identifier
    union all
    select * from by_customer_id

),

ranked as (

    select
        customer_id,
        reason,
        added_on,
        row_number() over (
            partition by customer_id order by added_on asc, reason asc
        ) as entry_rank
    from matched

),

final as (

    select
        customer_id,
        reason,
        added_on as suppressed_since
    from ranked
    where entry_rank = 1

)

select * from final
