{#- The conflict guard of the Fellegi-Sunter pairs (_identity__probabilistic.yml,
    conflict_guard): for every blocked pair (int_identity_fs_pair_levels)
    whose two records are in different strong clusters
    (int_identity_clusters_strong), one row per guard on which the two
    clusters conflict: both clusters hold values of the guard's attributes
    (after its normalisers) and they share none. Two people of one household
    (same surname, same address) score like one person on names and address,
    but their clusters hold different emails, phones and birth dates; a pair
    with a conflict is no edge (int_identity_pairs_probabilistic.is_edge).
    A guard over an attribute the model also compares applies only to pairs
    whose own level of that comparison is `null`: when both records hold the
    value, the comparison has already weighed their agreement. -#}
-- depends_on: {{ ref('int_identity_fs_pair_levels') }}
-- depends_on: {{ ref('int_identity_records_prepared') }}
-- depends_on: {{ ref('int_identity_clusters_strong') }}
-- Jinja loops over the configured guards: sqlfluff's indentation rule cannot
-- follow them.
-- noqa: disable=LT02,LT05
{%- set fs = cdp.identity_fs_config() %}
{%- set guards = fs.get('conflict_guard') or [] %}
{%- set compared = fs.comparisons | map(attribute='attribute') | list %}
{%- set string_type = dbt.type_string() %}
{%- if not guards %}

select
    cast(null as {{ string_type }}) as left_record_key,
    cast(null as {{ string_type }}) as right_record_key,
    cast(null as {{ string_type }}) as guard_name
where 1 = 0
{%- else %}
with

pair_levels as (

    select * from {{ ref('int_identity_fs_pair_levels') }}

),

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

strong_clusters as (

    select * from {{ ref('int_identity_clusters_strong') }}

),

pair_clusters as (

    select
        pair_levels.left_record_key,
        pair_levels.right_record_key,
        {%- for attribute in compared %}
        pair_levels.{{ attribute }}_level,
        {%- endfor %}
        left_clusters.cluster_key as left_cluster_key,
        right_clusters.cluster_key as right_cluster_key
    from pair_levels
    inner join strong_clusters as left_clusters
        on pair_levels.left_record_key = left_clusters.record_key
    inner join strong_clusters as right_clusters
        on pair_levels.right_record_key = right_clusters.record_key
    where left_clusters.cluster_key <> right_clusters.cluster_key

),

guarded_clusters as (

    select left_cluster_key as cluster_key from pair_clusters
    union
    select right_cluster_key as cluster_key from pair_clusters

),

guard_values as (
    {%- for guard in guards %}
    {%- set guard_loop = loop %}
    {%- for attribute in guard.attributes %}
    {%- set value = 'records.' ~ attribute %}
    {%- if guard.get('normalizers') %}
    {%- set value = cdp.identity_normalize(value, guard.normalizers) %}
    {%- endif %}
    {%- if not (guard_loop.first and loop.first) %}

    union
    {%- endif %}

    select
        strong_clusters.cluster_key,
        '{{ guard.name }}' as guard_name,
        cast({{ value }} as {{ string_type }}) as guard_value
    from records
    inner join strong_clusters
        on records.record_key = strong_clusters.record_key
    inner join guarded_clusters
        on strong_clusters.cluster_key = guarded_clusters.cluster_key
    where {{ value }} is not null
    {%- endfor %}
    {%- endfor %}

),

guard_sides as (

    -- one row per pair and guard both clusters hold values of
    select
        pair_clusters.left_record_key,
        pair_clusters.right_record_key,
        left_values.guard_name,
        max(
            case when left_values.guard_value = right_values.guard_value then 1 else 0 end
        ) as shares_value
    from pair_clusters
    inner join guard_values as left_values
        on pair_clusters.left_cluster_key = left_values.cluster_key
    inner join guard_values as right_values
        on
            pair_clusters.right_cluster_key = right_values.cluster_key
            and left_values.guard_name = right_values.guard_name
    where
        {%- for guard in guards %}
        {%- set own = guard.attributes | select('in', compared) | list %}
        {{ 'or ' if not loop.first }}(left_values.guard_name = '{{ guard.name }}'
            {%- for attribute in own %}
            and pair_clusters.{{ attribute }}_level = 'null'
            {%- endfor %})
        {%- endfor %}
    group by
        pair_clusters.left_record_key,
        pair_clusters.right_record_key,
        left_values.guard_name

),

final as (

    select
        left_record_key,
        right_record_key,
        guard_name
    from guard_sides
    where shares_value = 0

)

select * from final
{%- endif %}
