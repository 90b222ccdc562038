#include "ui/method_grid_dialog.h"

#include <QDialogButtonBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

namespace respo::ui {

namespace {
constexpr int kCellSize = 160;
constexpr int kMaxSeeds = 8;
}  // namespace

MethodGridDialog::MethodGridDialog(std::function<int(const respo::gpu::GenerationJob&)> enqueue, QWidget* parent)
    : QDialog(parent), enqueue_(std::move(enqueue)) {
  setWindowTitle(tr("Compare methods"));
  setObjectName("methodGridDialog");
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  list_ = new QListWidget(this);
  list_->setObjectName("gridMethods");
  list_->setMaximumHeight(140);
  top->addWidget(list_, 1);
  auto* side = new QVBoxLayout;
  seeds_ = new QSpinBox(this);
  seeds_->setObjectName("gridSeeds");
  seeds_->setRange(1, kMaxSeeds);
  seeds_->setValue(3);
  seeds_->setPrefix(tr("seeds: "));
  seeds_->setToolTip(tr("Rows: the current seed and the next ones"));
  startButton_ = new QPushButton(tr("Run grid"), this);
  startButton_->setObjectName("gridStart");
  side->addWidget(seeds_);
  side->addWidget(startButton_);
  side->addStretch(1);
  top->addLayout(side);
  layout->addLayout(top);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  gridHost_ = new QWidget(scroll);
  grid_ = new QGridLayout(gridHost_);
  scroll->setWidget(gridHost_);
  layout->addWidget(scroll, 1);
  auto* close = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(close);
  connect(startButton_, &QPushButton::clicked, this, &MethodGridDialog::startFromForm);
  resize(860, 620);
}

void MethodGridDialog::setMethods(const std::vector<GridMethod>& methods) {
  methods_ = methods;
  list_->clear();
  for (std::size_t i = 0; i < methods.size(); ++i) {
    auto* item = new QListWidgetItem(methods[i].label, list_);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(i < 4 ? Qt::Checked : Qt::Unchecked);
  }
}

void MethodGridDialog::startFromForm() { start(base_, seeds_->value()); }

int MethodGridDialog::start(const respo::gpu::GenerationJob& base, int seeds) {
  base_ = base;
  // A new grid replaces the old one (results of its jobs that still arrive are ignored).
  while (auto* item = grid_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  cells_.clear();
  images_.clear();
  columns_.clear();
  pending_ = 0;
  std::vector<const GridMethod*> chosen;
  for (int i = 0; i < list_->count(); ++i)
    if (list_->item(i)->checkState() == Qt::Checked) chosen.push_back(&methods_[static_cast<std::size_t>(i)]);
  for (std::size_t c = 0; c < chosen.size(); ++c) {
    columns_ << chosen[c]->label;
    auto* header = new QLabel("<b>" + chosen[c]->label.toHtmlEscaped() + "</b>", gridHost_);
    header->setWordWrap(true);
    header->setMaximumWidth(kCellSize);
    grid_->addWidget(header, 0, static_cast<int>(c) + 1);
  }
  seeds = std::clamp(seeds, 1, kMaxSeeds);
  for (int s = 0; s < seeds; ++s) {
    const auto seed = base.request.seed + static_cast<std::uint64_t>(s);
    grid_->addWidget(new QLabel(tr("seed %1").arg(seed), gridHost_), s + 1, 0);
    for (std::size_t c = 0; c < chosen.size(); ++c) {
      auto job = base;
      job.request.seed = seed;
      job.request.batch = 1;
      if (!chosen[c]->modules) job.selection = {};
      job.left = {};
      job.right = chosen[c]->right;
      auto* waiting = new QLabel(tr("queued"), gridHost_);
      waiting->setFixedSize(kCellSize, kCellSize);
      waiting->setAlignment(Qt::AlignCenter);
      grid_->addWidget(waiting, s + 1, static_cast<int>(c) + 1);
      const int id = enqueue_ ? enqueue_(job) : 0;
      if (id == 0) {
        waiting->setText(tr("not queued"));
        continue;
      }
      cells_[id] = {s, static_cast<int>(c)};
      ++pending_;
    }
  }
  return pending_;
}

void MethodGridDialog::place(int id, QWidget* widget) {
  const auto [row, column] = cells_.value(id);
  if (auto* old = grid_->itemAtPosition(row + 1, column + 1)) {
    delete old->widget();
  }
  widget->setFixedSize(kCellSize, kCellSize);
  grid_->addWidget(widget, row + 1, column + 1);
  cells_.remove(id);
  if (--pending_ == 0) Q_EMIT gridFinished();
}

void MethodGridDialog::addResult(int id, const QImage& image) {
  if (!cells_.contains(id)) return;
  images_[cells_.value(id)] = image;
  auto* label = new QLabel(gridHost_);
  label->setPixmap(QPixmap::fromImage(image.scaled(kCellSize, kCellSize, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
  label->setAlignment(Qt::AlignCenter);
  place(id, label);
}

void MethodGridDialog::addFailure(int id, const QString& message) {
  if (!cells_.contains(id)) return;
  auto* label = new QLabel(tr("failed: %1").arg(message), gridHost_);
  label->setWordWrap(true);
  label->setToolTip(message);
  place(id, label);
}

QImage MethodGridDialog::cell(int seedRow, int methodColumn) const { return images_.value({seedRow, methodColumn}); }

}  // namespace respo::ui
