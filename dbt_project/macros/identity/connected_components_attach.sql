{#- Incremental step of the connected_components materialization: given
    this run's symmetric edges (`work.edges`), the previous result
    (`previous`: node_column, component_column) and the previous run's edges
    (`graph`), compute exactly the components a full run would, iterating
    only over the part of the graph that changed:

      * a previous component none of whose edges is gone is still connected
        (edges were only added), so it is contracted to one node named by its
        label (its smallest node);
      * a previous component that lost an edge (a record gone, an identifier
        changed or screened out, a rule or override changed) may split: its
        nodes and edges stay as they are;
      * new nodes stay as they are.

    The small graph of the new edges between those (an edge inside one
    contracted component disappears) is solved with the same iterations.
    New records that link to one component join it; records linking
    components merge them; a component that lost edges is re-stitched alone.
    Its labels are the smallest node of each component, as in a full run.
    Writes the result to `work.result` (node_column, component_column,
    `iterations` of the small graph) and returns a line for the log. -#}
{% macro connected_components_attach(work, previous, graph, node_column, component_column, max_iterations) -%}
    {%- set node = 'previous_nodes.' ~ node_column -%}
    {%- set component = 'previous_nodes.' ~ component_column -%}
    {#- components that lost an edge, or a node -#}
    {%- call statement('attach_split_candidates') -%}
        {{ get_create_table_as_sql(False, work.split_candidates, (
            'select distinct ' ~ component ~ ' as component'
            ~ ' from (select node_a, node_b from ' ~ graph
            ~ ' except select node_a, node_b from ' ~ work.edges ~ ') as removed_edges'
            ~ ' inner join ' ~ previous ~ ' as previous_nodes'
            ~ ' on removed_edges.node_a = ' ~ node
        )) }}
    {%- endcall -%}
    {#- previous nodes of the components that are contracted -#}
    {%- call statement('attach_contracted') -%}
        {{ get_create_table_as_sql(False, work.contracted, (
            'select ' ~ node ~ ' as node, ' ~ component ~ ' as component'
            ~ ' from ' ~ previous ~ ' as previous_nodes'
            ~ ' left join ' ~ work.split_candidates ~ ' as split_candidates'
            ~ ' on ' ~ component ~ ' = split_candidates.component'
            ~ ' where split_candidates.component is null'
        )) }}
    {%- endcall -%}
    {%- call statement('attach_edges') -%}
        {{ get_create_table_as_sql(False, work.small_edges, (
            'select node_a, node_b from (select distinct'
            ~ ' coalesce(contracted_a.component, edges.node_a) as node_a,'
            ~ ' coalesce(contracted_b.component, edges.node_b) as node_b,'
            ~ ' contracted_a.component as component_a,'
            ~ ' contracted_b.component as component_b'
            ~ ' from ' ~ work.edges ~ ' as edges'
            ~ ' left join ' ~ work.contracted ~ ' as contracted_a on edges.node_a = contracted_a.node'
            ~ ' left join ' ~ work.contracted ~ ' as contracted_b on edges.node_b = contracted_b.node'
            ~ ') as mapped_edges'
            ~ ' where component_a is null or component_b is null or component_a <> component_b'
        )) }}
    {%- endcall -%}
    {%- call statement('attach_labels') -%}
        {{ get_create_table_as_sql(False, work.labels, (
            'select node_a as node, min(case when node_b < node_a then node_b else node_a end)'
            ~ ' as label from ' ~ work.small_edges ~ ' group by node_a'
        )) }}
    {%- endcall -%}
    {%- set iterations = cdp.connected_components_converge(
        work.small_edges, work.labels, work.next, max_iterations
    ) -%}

    {#- contracted nodes follow their component's new label; the small
        graph's other nodes are new or re-stitched -#}
    {%- call statement('main') -%}
        {{ get_create_table_as_sql(False, work.result, (
            'select contracted.node as ' ~ node_column
            ~ ', coalesce(labels.label, contracted.component) as ' ~ component_column
            ~ ', ' ~ iterations ~ ' as iterations'
            ~ ' from ' ~ work.contracted ~ ' as contracted'
            ~ ' left join ' ~ work.labels ~ ' as labels on contracted.component = labels.node'
            ~ ' union all select labels.node as ' ~ node_column
            ~ ', labels.label as ' ~ component_column ~ ', ' ~ iterations ~ ' as iterations'
            ~ ' from ' ~ work.labels ~ ' as labels'
            ~ ' left join (select distinct component from ' ~ work.contracted ~ ') as contracted'
            ~ ' on labels.node = contracted.component'
            ~ ' where contracted.component is null'
        )) }}
    {%- endcall -%}
    {%- set counts = run_query(
        'select'
        ~ ' (select count(*) from ' ~ work.split_candidates ~ '),'
        ~ ' (select count(*) from ' ~ work.labels ~ ' as labels left join ' ~ previous
        ~ ' as previous_nodes on labels.node = ' ~ node ~ ' where ' ~ node ~ ' is null),'
        ~ ' (select count(*) from ' ~ work.labels ~ ')'
    ).rows[0] -%}
    {{ return(counts[1] ~ ' new nodes, ' ~ counts[0] ~ ' components re-stitched for lost edges, '
        ~ counts[2] ~ ' nodes iterated in ' ~ iterations ~ ' iterations') }}
{%- endmacro %}
