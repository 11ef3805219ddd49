{#- How many people hold each email (canonical) and phone. The records
    holding the value are grouped by the strong rules (int_identity_clusters_
    strong); each group with a name is known by its most frequent first name
    (ASCII-folded, nicknames resolved); people are the distinct first three
    letters of those names. Two groups of one person (a typo kept them apart)
    count once; a household sharing an email counts twice even when only one
    of them typed a name next to it. Groups without any name (a guest order,
    a consent) or with initials only ('J.') are no person of their own. The weak rules
    (max_people_per_value) only link through a value held by one person.
    Separate email-platform subscriptions count too: when the very same
    address (as typed, lowercased) carries email subscriber ids in two
    groups the strong rules keep apart, it is held by at least two people (a
    household member who signed up on the shared address without a name),
    so the nameless records on it are not glued to either. Two
    subscriptions on variants of one address (a plus tag, gmail dots) are
    one person signing up again and count once. -#}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

clusters as (

    select * from {{ ref('int_identity_clusters_strong') }}

),

name_aliases as (

    select * from {{ ref('identity_name_aliases') }}

),

record_first_names as (

    select
        clusters.cluster_key,
        coalesce(
            name_aliases.canonical_name,
            {{ cdp.identity_normalize('records.first_name', ['ascii', 'collapse_whitespace']) }}
        ) as first_name_key
    from records
    inner join clusters
        on records.record_key = clusters.record_key
    left join name_aliases
        on
            name_aliases.alias_name
            = {{ cdp.identity_normalize('records.first_name', ['ascii', 'collapse_whitespace']) }}
    where records.first_name is not null

),

cluster_name_counts as (

    select
        cluster_key,
        first_name_key,
        count(*) as record_count
    from record_first_names
    where length(replace(first_name_key, '.', '')) > 1
    group by cluster_key, first_name_key

),

cluster_names as (

    select
        cluster_key,
        substr(first_name_key, 1, 3) as name_prefix
    from (
        select
            cluster_key,
            first_name_key,
            row_number() over (
                partition by cluster_key
                order by record_count desc, length(first_name_key) desc, first_name_key
            ) as name_rank
        from cluster_name_counts
    ) as ranked
    where name_rank = 1

),

identifier_values as (

    select
        records.record_key,
        'email' as identifier_type,
        {{ cdp.identity_normalize('records.email', ['email_canonical']) }}
            as identifier_value,
        lower(trim(records.email)) as value_as_typed,
        records.first_name,
        records.email_subscriber_id
    from records
    union all
    select
        records.record_key,
        'phone' as identifier_type,
        records.phone_e164 as identifier_value,
        records.phone_e164 as value_as_typed,
        records.first_name,
        records.email_subscriber_id
    from records
    union all
    select
        records.record_key,
        'phone' as identifier_type,
        records.secondary_phone_e164 as identifier_value,
        records.secondary_phone_e164 as value_as_typed,
        records.first_name,
        records.email_subscriber_id
    from records

),

named_counts as (

    select
        identifier_values.identifier_type,
        identifier_values.identifier_value,
        count(distinct cluster_names.name_prefix) as named_people_count
    from identifier_values
    inner join clusters
        on identifier_values.record_key = clusters.record_key
    left join cluster_names
        on clusters.cluster_key = cluster_names.cluster_key
    where identifier_values.identifier_value is not null
    group by identifier_values.identifier_type, identifier_values.identifier_value

),

subscriptions_per_address as (

    select
        identifier_values.identifier_type,
        identifier_values.identifier_value,
        identifier_values.value_as_typed,
        count(distinct clusters.cluster_key) as subscribed_group_count
    from identifier_values
    inner join clusters
        on identifier_values.record_key = clusters.record_key
    where
        identifier_values.identifier_value is not null
        and identifier_values.email_subscriber_id is not null
    group by
        identifier_values.identifier_type,
        identifier_values.identifier_value,
        identifier_values.value_as_typed

),

subscription_counts as (

    select
        identifier_type,
        identifier_value,
        max(subscribed_group_count) as subscribed_group_count
    from subscriptions_per_address
    group by identifier_type, identifier_value

),

final as (

    select
        named_counts.identifier_type,
        named_counts.identifier_value,
        greatest(
            named_counts.named_people_count,
            coalesce(subscription_counts.subscribed_group_count, 0)
        ) as people_count
    from named_counts
    left join subscription_counts
        on
            named_counts.identifier_type = subscription_counts.identifier_type
            and named_counts.identifier_value
            = subscription_counts.identifier_value

)

select * from final
