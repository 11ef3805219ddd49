{#- One iteration of connected components (see the connected_components
    materialization): select statement of the next (node, label) table from
    the symmetric edges table and the current labels table. Labels only
    decrease and are always nodes of the same component, so the loop stops
    with every node labelled by the smallest node of its component. -#}
{% macro identity_components_iteration(edges_relation, labels_relation) -%}
    {{ return(adapter.dispatch('identity_components_iteration', 'cdp')(edges_relation, labels_relation)) }}
{%- endmacro %}

{% macro default__identity_components_iteration(edges_relation, labels_relation) -%}
    with

    neighbour_minimum as (
        select
            edges.node_a as node,
            min(labels.label) as label
        from {{ edges_relation }} as edges
        inner join {{ labels_relation }} as labels
            on edges.node_b = labels.node
        group by edges.node_a
    ),

    propagated as (
        select
            labels.node,
            labels.label as old_label,
            case
                when neighbour_minimum.label < labels.label then neighbour_minimum.label
                else labels.label
            end as label
        from {{ labels_relation }} as labels
        left join neighbour_minimum
            on labels.node = neighbour_minimum.node
    ),

    hooks as (
        select
            old_label as node,
            min(label) as label
        from propagated
        group by old_label
    ),

    hooked as (
        select
            propagated.node,
            case
                when hooks.label < propagated.label then hooks.label
                else propagated.label
            end as label
        from propagated
        left join hooks
            on propagated.node = hooks.node
    )

    select
        hooked.node,
        case
            when parent.label < hooked.label then parent.label
            else hooked.label
        end as label
    from hooked
    inner join hooked as parent
        on hooked.label = parent.node
{%- endmacro %}
