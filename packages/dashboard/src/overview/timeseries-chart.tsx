import type { ThroughputBucket } from '@conveyor/contracts';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  value(bucket: ThroughputBucket): number | null;
}

interface TimeseriesChartProps {
  title: string;
  unit: string;
  buckets: readonly ThroughputBucket[];
  series: readonly ChartSeries[];
}

const HEIGHT = 180;

function dataOf(buckets: readonly ThroughputBucket[], series: readonly ChartSeries[]): uPlot.AlignedData {
  return [
    buckets.map((bucket) => Date.parse(bucket.minute) / 1000),
    ...series.map((line) => buckets.map((bucket) => line.value(bucket))),
  ];
}

/** One chart of the last hour, a point a minute; uPlot draws it on a canvas (about 50 kB). */
export function TimeseriesChart({ title, unit, buckets, series }: TimeseriesChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = container.current;
    if (element === null) return undefined;
    plot.current = new uPlot(
      {
        width: Math.max(element.clientWidth, 200),
        height: HEIGHT,
        series: [
          {},
          ...series.map((line) => ({ label: line.label, stroke: line.color, width: 2, spanGaps: false })),
        ],
        axes: [{}, { label: unit, size: 60 }],
        legend: { live: true },
      },
      dataOf(buckets, series),
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(element.clientWidth, 200), height: HEIGHT }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Built once; new buckets go through setData below.
  }, []);

  useEffect(() => {
    plot.current?.setData(dataOf(buckets, series));
  }, [buckets, series]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={container} />
    </figure>
  );
}
