{#- Materialization `connected_components`: the model's SQL returns the
    edges of a graph as two columns, node_a and node_b (include a self-edge
    (n, n) for every node that must appear even without links). The result
    is a table with one row per node: the node (config node_column, default
    'node'), the smallest node of its connected component (config
    component_column, default 'component') and the number of iterations the
    computation needed (column `iterations`).

    Each iteration is one portable SQL statement (identity_components_iteration)
    run on working tables next to the model: minimum-label propagation along
    the edges, with the new minimum also handed to the node's current label
    (hooking) and labels followed one step further (pointer jumping), so a
    chain of n records converges in about log2(n) iterations instead of n.
    It repeats until no label changes; no fixed number of passes. More than
    config max_iterations (default 100) stops the build.

    Incremental: the edges of each run are kept (`<model>__cc_graph`); when
    the previous result and graph exist, only what changed is iterated over
    (connected_components_attach: new nodes, merges, components that lost
    edges), with exactly the result of a full run. Without them, and always
    with `--full-refresh` or var cdp__identity_full_restitch, the components
    are computed from scratch over the whole graph (a full re-stitch). The
    log says which (docs/incremental.md). A full run iterates over integer
    ids (each node's rank in node order) instead of the node keys: joins on
    integers are about twice as fast on 1M-customer graphs (benchmarks/scale). -#}
{% materialization connected_components, default -%}
    {%- set node_column = config.get('node_column', 'node') -%}
    {%- set component_column = config.get('component_column', 'component') -%}
    {%- set max_iterations = config.get('max_iterations', 100) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set work = {} -%}
    {%- for part in ['edges', 'labels', 'next', 'result', 'small_edges', 'split_candidates', 'contracted', 'node_ids', 'id_edges'] -%}
        {%- do work.update({part: api.Relation.create(
            database=this.database,
            schema=this.schema,
            identifier=this.identifier ~ '__cc_' ~ part,
            type='table'
        )}) -%}
    {%- endfor -%}
    {%- set graph = api.Relation.create(
        database=this.database,
        schema=this.schema,
        identifier=this.identifier ~ '__cc_graph',
        type='table'
    ) -%}

    {{ run_hooks(pre_hooks) }}
    {%- for part in work.values() -%}
        {%- do adapter.drop_relation(part) -%}
    {%- endfor -%}

    {%- call statement('edges') -%}
        {{ get_create_table_as_sql(False, work.edges, (
            'select node_a, node_b from (' ~ sql ~ ') as model_edges'
            ~ ' where node_a is not null and node_b is not null'
            ~ ' union select node_b as node_a, node_a as node_b from (' ~ sql ~ ') as model_edges'
            ~ ' where node_a is not null and node_b is not null'
        )) }}
    {%- endcall -%}
    {#- attach new nodes to the previous result where that is exact -#}
    {%- set graph_relation = load_cached_relation(graph) -%}
    {%- set outcome = {'attached': false, 'reason': 'no previous graph'} -%}
    {%- if should_full_refresh() or var('cdp__identity_full_restitch', false) -%}
        {%- do outcome.update({'reason': 'full re-stitch asked for'}) -%}
    {%- elif existing_relation is not none and graph_relation is not none -%}
        {%- do outcome.update({'attached': true, 'reason': cdp.connected_components_attach(
            work, existing_relation, graph_relation, node_column, component_column, max_iterations
        )}) -%}
        {{ log(this.identifier ~ ': connected components incremental: '
            ~ outcome.reason, info=true) }}
    {%- endif -%}

    {%- if not outcome.attached -%}
        {#- the iterations join integers, not the (long) node keys: each node
            gets its rank in node order, so the smallest id of a component is
            its smallest node and the result is the same -#}
        {%- call statement('node_ids') -%}
            {{ get_create_table_as_sql(False, work.node_ids, (
                'select node, row_number() over (order by node) as id'
                ~ ' from (select distinct node_a as node from ' ~ work.edges ~ ') as nodes'
            )) }}
        {%- endcall -%}
        {%- call statement('id_edges') -%}
            {{ get_create_table_as_sql(False, work.id_edges, (
                'select ids_a.id as node_a, ids_b.id as node_b from ' ~ work.edges ~ ' as edges'
                ~ ' inner join ' ~ work.node_ids ~ ' as ids_a on edges.node_a = ids_a.node'
                ~ ' inner join ' ~ work.node_ids ~ ' as ids_b on edges.node_b = ids_b.node'
            )) }}
        {%- endcall -%}
        {%- call statement('labels') -%}
            {{ get_create_table_as_sql(False, work.labels, (
                'select node_a as node, min(case when node_b < node_a then node_b else node_a end)'
                ~ ' as label from ' ~ work.id_edges ~ ' group by node_a'
            )) }}
        {%- endcall -%}
        {%- set iterations = cdp.connected_components_converge(
            work.id_edges, work.labels, work.next, max_iterations
        ) -%}
        {{ log(this.identifier ~ ': connected components full re-stitch ('
            ~ outcome.reason ~ '), converged in ' ~ iterations ~ ' iterations', info=true) }}
        {%- call statement('main') -%}
            {{ get_create_table_as_sql(False, work.result, (
                'select node_ids.node as ' ~ node_column ~ ', label_ids.node as ' ~ component_column
                ~ ', ' ~ iterations ~ ' as iterations from ' ~ work.labels ~ ' as labels'
                ~ ' inner join ' ~ work.node_ids ~ ' as node_ids on labels.node = node_ids.id'
                ~ ' inner join ' ~ work.node_ids ~ ' as label_ids on labels.label = label_ids.id'
            )) }}
        {%- endcall -%}
    {%- endif -%}
    {%- if existing_relation is not none -%}
        {%- do adapter.drop_relation(existing_relation) -%}
    {%- endif -%}
    {%- do adapter.rename_relation(work.result, target_relation) -%}
    {#- the graph of this run, which the next one compares with -#}
    {%- if graph_relation is not none -%}
        {%- do adapter.drop_relation(graph_relation) -%}
    {%- endif -%}
    {%- do adapter.rename_relation(work.edges, graph) -%}
    {%- for part in ['labels', 'small_edges', 'split_candidates', 'contracted', 'node_ids', 'id_edges'] -%}
        {%- do adapter.drop_relation(work[part]) -%}
    {%- endfor -%}
    {%- do persist_docs(target_relation, model) -%}

    {{ run_hooks(post_hooks) }}
    {{ adapter.commit() }}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
