{#- The consent in force per customer, channel and purpose on the as-of day,
    from the ledger: the latest explicit signal decides (a revoke wins a tie
    with a grant); only when there is no explicit signal at all does the
    latest inferred opt-in count. So an explicit opt-out is never undone by
    an inferred opt-in, however recent. -#}
with

ledger as (

    select * from {{ ref('customer_consent_ledger') }}
    where
        occurred_at < {{ dbt.dateadd('day', 1, cdp.cdp_as_of_date()) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_id, channel, purpose
            order by
                case when evidence = 'explicit' then 0 else 1 end asc,
                occurred_at desc,
                case when is_granted then 1 else 0 end asc,
                source_name asc,
                source_record_id desc
        ) as signal_rank
    from ledger

),

history as (

    select
        customer_id,
        channel,
        purpose,
        count(*) as signal_count,
        max(case when evidence = 'explicit' then 1 else 0 end) = 1
            as has_explicit_signal,
        max(case when not is_granted then occurred_at end) as last_revoked_at,
        max(case when is_granted then confirmed_at end)
            as last_double_opt_in_confirmed_at
    from ledger
    group by customer_id, channel, purpose

),

final as (

    select
        ranked.customer_id,
        ranked.channel,
        ranked.purpose,
        ranked.consent_status,
        ranked.is_granted,
        ranked.evidence as decided_by_evidence,
        ranked.source_name as decided_by_source,
        ranked.collection_method as decided_by_method,
        ranked.occurred_at as decided_at,
        ranked.confirmed_at as double_opt_in_confirmed_at,
        history.last_double_opt_in_confirmed_at,
        history.last_revoked_at,
        history.signal_count
    from ranked
    inner join history
        on
            ranked.customer_id = history.customer_id
            and ranked.channel = history.channel
            and ranked.purpose = history.purpose
    where ranked.signal_rank = 1

)

select * from final
