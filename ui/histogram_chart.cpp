#include "ui/histogram_chart.h"

#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QValueAxis>
#include <algorithm>

namespace respo::ui {

HistogramChart::HistogramChart(QWidget* parent) : QChartView(parent) {
  setObjectName("histogramChart");
  setChart(new QChart);
  chart()->legend()->setAlignment(Qt::AlignBottom);
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(240);
}

void HistogramChart::show(const QString& title, const respo::report::AttributeCounts& counts) {
  auto* chart = new QChart;
  chart->setTitle(title);
  auto* before = new QBarSet(tr("without concepts"));
  auto* after = new QBarSet(tr("with concepts"));
  QStringList classes;
  int top = 1;
  for (std::size_t i = 0; i < counts.classes.size(); ++i) {
    classes << QString::fromStdString(counts.classes[i]);
    *before << counts.before[i];
    *after << counts.after[i];
    top = std::max({top, counts.before[i], counts.after[i]});
  }
  auto* series = new QBarSeries(chart);
  series->append(before);
  series->append(after);
  chart->addSeries(series);
  auto* x = new QBarCategoryAxis(chart);
  x->append(classes);
  auto* y = new QValueAxis(chart);
  // Whole-number ticks: one per image for small counts, else nice round steps.
  y->setRange(0, top);
  if (top <= 10) y->setTickCount(top + 1);
  else y->applyNiceNumbers();
  y->setLabelFormat("%d");
  y->setTitleText(tr("images"));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  series->attachAxis(x);
  series->attachAxis(y);
  chart->legend()->setAlignment(Qt::AlignBottom);
  QChart* old = this->chart();
  setChart(chart);
  delete old;
  before_ = counts.before;
  after_ = counts.after;
}

}  // namespace respo::ui
