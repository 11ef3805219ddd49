{#- Persistent customer id of every record. Reads its own previous version
    ({{ this }}) to carry ids across runs:
      * each previous id goes to the new cluster holding most of its records
        (ties: smallest cluster key), so when a cluster splits the largest
        part keeps the id;
      * a cluster receiving several previous ids (a merge) keeps the oldest
        (earliest customer_id_created_at, then smallest id);
      * a cluster receiving none gets a new id from the hash of its smallest
        record key (of that key and the run when the hash is taken already).
    previous_customer_id says what the record had before, which is how
    customer_id_history finds creations, merges and splits. Ids survive
    `dbt build --full-refresh` (this is a table reading its previous state);
    drop the table to start ids afresh.
    Joins here are on equalities alone, so every engine can hash-join them
    (a `surviving_customer_id is null` term in the known_ids join made DuckDB
    plan a nested loop: hours at 1M customers). -#}
{%- set previous_relation = adapter.get_relation(
    database=this.database, schema=this.schema, identifier=this.identifier
) %}
with

clusters as (

    select * from {{ ref('int_identity_clusters') }}

),

previous_ids as (

    {%- if previous_relation is not none %}

    select
        record_key,
        customer_id,
        customer_id_created_at
    from {{ previous_relation }}
    {%- else %}

        select
            cast(null as {{ dbt.type_string() }}) as record_key,
            cast(null as {{ dbt.type_string() }}) as customer_id,
            cast(null as {{ dbt.type_timestamp() }}) as customer_id_created_at
        where 1 = 0
    {%- endif %}

),

records_with_previous_ids as (

    select
        clusters.record_key,
        clusters.cluster_key,
        previous_ids.customer_id as previous_customer_id,
        previous_ids.customer_id_created_at as previous_created_at
    from clusters
    left join previous_ids
        on clusters.record_key = previous_ids.record_key

),

previous_id_parts as (

    select
        previous_customer_id,
        cluster_key,
        count(*) as record_count,
        min(previous_created_at) as created_at
    from records_with_previous_ids
    where previous_customer_id is not null
    group by previous_customer_id, cluster_key

),

previous_id_keepers as (

    select
        previous_customer_id,
        cluster_key,
        created_at,
        row_number() over (
            partition by previous_customer_id
            order by record_count desc, cluster_key asc
        ) as keeper_rank
    from previous_id_parts

),

cluster_survivors as (

    select
        cluster_key,
        previous_customer_id as customer_id,
        created_at,
        row_number() over (
            partition by cluster_key
            order by created_at, previous_customer_id
        ) as survivor_rank
    from previous_id_keepers
    where keeper_rank = 1

),

cluster_ids as (

    select distinct
        clusters.cluster_key,
        cluster_survivors.customer_id as surviving_customer_id,
        cluster_survivors.created_at as surviving_created_at,
        'cus_' || substr({{ dbt.hash('clusters.cluster_key') }}, 1, 20) as hashed_customer_id
    from clusters
    left join cluster_survivors
        on
            clusters.cluster_key = cluster_survivors.cluster_key
            and cluster_survivors.survivor_rank = 1

),

known_ids as (

    select distinct customer_id
    from previous_ids

),

assigned_ids as (

    select
        cluster_ids.cluster_key,
        case
            when cluster_ids.surviving_customer_id is not null
                then cluster_ids.surviving_customer_id
            when known_ids.customer_id is null then cluster_ids.hashed_customer_id
            else 'cus_' || substr({{ dbt.hash(
                "cluster_ids.cluster_key || '" ~ invocation_id ~ "'"
            ) }}, 1, 20)
        end as customer_id,
        coalesce(
            cluster_ids.surviving_created_at,
            cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
        ) as customer_id_created_at
    from cluster_ids
    left join known_ids
        on cluster_ids.hashed_customer_id = known_ids.customer_id

),

final as (

    select
        records_with_previous_ids.record_key,
        records_with_previous_ids.cluster_key,
        assigned_ids.customer_id,
        assigned_ids.customer_id_created_at,
        records_with_previous_ids.previous_customer_id,
        '{{ invocation_id }}' as assigned_in_run_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
            as assigned_at
    from records_with_previous_ids
    inner join assigned_ids
        on records_with_previous_ids.cluster_key = assigned_ids.cluster_key

)

select * from final
