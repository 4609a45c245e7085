// DMA read path (LOAD): DRAM bursts -> rows of the input, weight or parameter buffer.
// Bursts of at most MaxBurst beats, at most MaxOutstanding in flight so that instruction fetches
// interleave with long loads. Beats are assembled into buffer rows (a row spans Wt/B beats).
//
// Zero-block mode (LOAD h8 bit 0, docs/engine.md) is the decoder: the band's bitmap rows are read
// into the bitmap buffer first; then a walker visits the planar band's segments in buffer order.
// A non-zero block's segment is one burst into its buffer rows; a zero block's segment is never
// requested, its rows are filled with the zero point whenever the write port is free.
module gatec_dma_rd #(
  parameter int unsigned B              = 16,
  parameter int unsigned Wa             = 16,
  parameter int unsigned Ww             = 64,
  parameter int unsigned Wp             = 64,
  parameter int unsigned RowAddrWidth   = 16,
  parameter int unsigned MaxBurst       = 64,
  parameter int unsigned MaxOutstanding = 4,
  parameter int unsigned BmBytes        = 2048,
  localparam int unsigned WMax = (Wa > Ww) ? ((Wa > Wp) ? Wa : Wp) : ((Ww > Wp) ? Ww : Wp),
  localparam int unsigned BeatIdxWidth = (WMax / B > 1) ? $clog2(WMax / B) : 1
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    start_i,
  input  logic [511:0]            instr_i,
  output logic                    busy_o,
  output logic                    req_valid_o,
  input  logic                    req_ready_i,
  output logic [31:0]             req_addr_o,
  output logic [15:0]             req_beats_o,
  input  logic                    data_valid_i,
  input  logic [B*8-1:0]          data_i,
  input  logic                    data_last_i,
  // one row write per cycle at most, to the target buffer of the instruction
  output logic                    in_we_o,
  // the in-buffer row written is a zero block's fill (its zero flag)
  output logic                    in_zero_o,
  output logic                    w_we_o,
  output logic                    p_we_o,
  output logic [RowAddrWidth-1:0] row_o,
  output logic [WMax*8-1:0]       row_data_o
);
  localparam int unsigned LogB = $clog2(B);
  localparam int unsigned AsmIdxWidth = $clog2(WMax * 8);
  localparam int unsigned BmRows = BmBytes / B;
  localparam int unsigned BmRowW = $clog2(BmRows);
  localparam int unsigned BitIdxW = $clog2(BmBytes * 8);
  localparam int unsigned OutW = $clog2(MaxOutstanding + 1);
  localparam int unsigned FillDepth = 8;

  logic [15:0] h [32];
  always_comb begin
    for (int unsigned k = 0; k < 32; k++) h[k] = instr_i[16*k +: 16];
  end

  // ------------------------------------------------------------------ instruction state
  logic        zb_q;
  logic [1:0]  target_q;
  logic [31:0] addr_q, req_left_q, data_left_q;
  logic [15:0] seg_beats_q;
  logic [31:0] bm_addr_q, bm_left_q, bm_req_left_q;
  logic [7:0]  zp_q;
  logic [OutW-1:0] outstanding_q;

  // ------------------------------------------------------------------ beat assembly (dense and data segments)
  logic [RowAddrWidth-1:0] row_q;
  logic [BeatIdxWidth-1:0] beat_q, beats_per_row;
  logic [WMax*8-1:0] asm_q, asm_now;

  always_comb begin
    case (target_q)
      2'd1:    beats_per_row = BeatIdxWidth'(Ww / B - 1);
      2'd2:    beats_per_row = BeatIdxWidth'(Wp / B - 1);
      default: beats_per_row = BeatIdxWidth'(Wa / B - 1);
    endcase
  end

  always_comb begin
    asm_now = asm_q;
    asm_now[AsmIdxWidth'({beat_q, LogB'(0), 3'b000}) +: B*8] = data_i;
  end

  // ------------------------------------------------------------------ zero-block decoder
  // phase: bitmap rows first (bm_left_q beats), then the segment walk
  logic bm_phase, seg_phase;
  assign bm_phase  = zb_q && (bm_left_q != '0);
  assign seg_phase = zb_q && (bm_left_q == '0);

  logic              bm_we, bm_re;
  logic [BmRowW-1:0] bm_waddr_q, bm_raddr;
  logic [B*8-1:0]    bm_rdata;
  gatec_ram #(.RowBytes(B), .Rows(BmRows)) u_bitmap (
    .clk_i, .we_i (bm_we), .waddr_i (bm_waddr_q), .wbe_i ('1), .wdata_i (data_i),
    .re_i (bm_re), .raddr_i (bm_raddr), .rdata_o (bm_rdata)
  );
  assign bm_we = bm_phase && data_valid_i;

  // walker (stage A): the segment whose bitmap bit is read this cycle
  logic        walking_q;
  logic [31:0] seg_addr_q;
  logic [RowAddrWidth-1:0] walk_row_q;
  logic [BitIdxW-1:0] bit_idx;

  // stage B: the segment whose bitmap bit the RAM returns this cycle
  logic        b_valid_q;
  logic [$clog2(B*8)-1:0] b_bit_q;
  logic [31:0] b_addr_q;
  logic [RowAddrWidth-1:0] b_row_q;
  logic b_nonzero, b_fire, a_fire;

  // fill queue (rows of zero segments) and the rows of requested data segments
  logic [RowAddrWidth-1:0] fill_row_q [FillDepth];
  logic [$clog2(FillDepth)-1:0] fill_wr_q, fill_rd_q;
  logic [$clog2(FillDepth+1)-1:0] fill_count_q;
  logic [RowAddrWidth-1:0] data_row_q [MaxOutstanding];
  logic [$clog2(MaxOutstanding)-1:0] data_wr_q, data_rd_q;
  logic [15:0] fill_done_q, seg_rows_done_q;
  logic [15:0] seg_rows;
  logic fill_full, fill_we, data_we, seg_req;
  assign seg_rows  = 16'(seg_beats_q >> $clog2(Wa / B));

  gatec_zb_walker #(.B(B), .RowAddrWidth(RowAddrWidth), .BitIdxW(BitIdxW)) u_walker (
    .clk_i, .rst_ni,
    .start_i       (start_i && h[8][0]),
    .planes_i      (h[9]),
    .rows_i        (h[10]),
    .nwb_i         (h[11]),
    .seg_beats_i   (h[12]),
    .seg_rows_i    (RowAddrWidth'(h[12] >> $clog2(Wa / B))),
    .bh_i          (h[13]),
    .bm_row_i      (h[18]),
    .k_i           (h[19]),
    .plane_bytes_i ({h[15], h[14]}),
    .addr_i        ({h[3], h[2]}),
    .row_i         (RowAddrWidth'(h[7])),
    .advance_i     (a_fire),
    .walking_o     (walking_q),
    .bit_idx_o     (bit_idx),
    .seg_addr_o    (seg_addr_q),
    .row_o         (walk_row_q)
  );
  assign fill_full = (32'(fill_count_q) == FillDepth);

  assign b_nonzero = bm_rdata[b_bit_q];
  assign seg_req   = b_valid_q && b_nonzero && !fill_full && (32'(outstanding_q) < MaxOutstanding);
  assign b_fire    = b_valid_q && !fill_full && (!b_nonzero || (seg_req && req_ready_i));
  assign a_fire    = seg_phase && walking_q && (!b_valid_q || b_fire);
  assign bm_re     = a_fire;
  assign bm_raddr  = BmRowW'(bit_idx >> $clog2(B * 8));

  // data beats of segments go to the row of the oldest requested segment
  assign data_we = !bm_phase && data_valid_i && (beat_q == beats_per_row);
  // zero-point rows use the write port when no data row does
  assign fill_we = seg_phase && (fill_count_q != '0) && !data_we;

  // ------------------------------------------------------------------ requests
  logic [31:0] burst, left;
  assign left  = bm_phase ? bm_req_left_q : req_left_q;
  assign burst = (left > 32'(MaxBurst)) ? 32'(MaxBurst) : left;
  always_comb begin
    if (seg_phase) begin
      req_valid_o = seg_req;
      req_addr_o  = b_addr_q;
      req_beats_o = seg_beats_q;
    end else begin
      req_valid_o = !zb_q ? (req_left_q != '0) && (32'(outstanding_q) < MaxOutstanding)
                          : (bm_req_left_q != '0) && (32'(outstanding_q) < MaxOutstanding);
      req_addr_o  = zb_q ? bm_addr_q : addr_q;
      req_beats_o = burst[15:0];
    end
  end

  assign busy_o = zb_q ? (bm_phase || walking_q || b_valid_q || fill_count_q != '0 || outstanding_q != '0)
                       : (data_left_q != '0);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      zb_q <= 1'b0; target_q <= '0; addr_q <= '0; req_left_q <= '0; data_left_q <= '0;
      row_q <= '0; beat_q <= '0; outstanding_q <= '0; bm_left_q <= '0; bm_req_left_q <= '0;
      bm_waddr_q <= '0; b_valid_q <= 1'b0; fill_count_q <= '0;
      fill_wr_q <= '0; fill_rd_q <= '0; data_wr_q <= '0; data_rd_q <= '0; fill_done_q <= '0;
      seg_rows_done_q <= '0;
    end else if (start_i) begin
      zb_q          <= h[8][0];
      target_q      <= h[6][1:0];
      addr_q        <= {h[3], h[2]};
      req_left_q    <= h[8][0] ? '0 : {h[5], h[4]} >> LogB;
      data_left_q   <= h[8][0] ? '0 : {h[5], h[4]} >> LogB;
      bm_left_q     <= h[8][0] ? {h[5], h[4]} >> LogB : '0;
      bm_req_left_q <= h[8][0] ? {h[5], h[4]} >> LogB : '0;
      bm_addr_q     <= {h[17], h[16]};
      bm_waddr_q    <= '0;
      row_q         <= RowAddrWidth'(h[7]);
      beat_q        <= '0;
      seg_beats_q   <= h[12];
      zp_q          <= h[20][7:0];
      fill_done_q   <= '0;
      seg_rows_done_q <= '0;
    end else begin
      // dense loads and the bitmap fetch: bursts of the remaining beats
      if (!seg_phase && req_valid_o && req_ready_i) begin
        if (zb_q) begin
          bm_addr_q     <= bm_addr_q + (burst << LogB);
          bm_req_left_q <= bm_req_left_q - burst;
        end else begin
          addr_q     <= addr_q + (burst << LogB);
          req_left_q <= req_left_q - burst;
        end
      end
      if (bm_phase && data_valid_i) begin
        bm_left_q  <= bm_left_q - 32'd1;
        bm_waddr_q <= bm_waddr_q + BmRowW'(1);
      end
      if (!zb_q && data_valid_i) data_left_q <= data_left_q - 32'd1;
      if (!bm_phase && data_valid_i) begin
        beat_q <= (beat_q == beats_per_row) ? '0 : beat_q + BeatIdxWidth'(1);
        if (!zb_q && beat_q == beats_per_row) row_q <= row_q + RowAddrWidth'(1);
      end
      case ({req_valid_o && req_ready_i, data_valid_i && data_last_i})
        2'b10:   outstanding_q <= outstanding_q + 1'b1;
        2'b01:   outstanding_q <= outstanding_q - 1'b1;
        default: outstanding_q <= outstanding_q;
      endcase

      // walker: one segment per cycle while stage B keeps up
      if (a_fire) begin
        b_valid_q <= 1'b1;
        b_bit_q   <= bit_idx[$clog2(B*8)-1:0];
        b_addr_q  <= seg_addr_q;
        b_row_q   <= walk_row_q;
      end else if (b_fire) begin
        b_valid_q <= 1'b0;
      end

      // stage B: a data segment's rows are remembered in request order, a zero one's queued for fill
      if (b_fire && b_nonzero) begin
        data_row_q[data_wr_q] <= b_row_q;
        data_wr_q <= data_wr_q + 1'b1;
      end
      if (b_fire && !b_nonzero) begin
        fill_row_q[fill_wr_q] <= b_row_q;
        fill_wr_q <= fill_wr_q + 1'b1;
      end
      if (data_we && seg_phase) begin
        if (seg_rows_done_q == seg_rows - 16'd1) begin
          seg_rows_done_q <= '0;
          data_rd_q <= data_rd_q + 1'b1;
        end else begin
          seg_rows_done_q <= seg_rows_done_q + 16'd1;
        end
      end
      if (fill_we) begin
        if (fill_done_q == seg_rows - 16'd1) begin
          fill_done_q <= '0;
          fill_rd_q   <= fill_rd_q + 1'b1;
        end else begin
          fill_done_q <= fill_done_q + 16'd1;
        end
      end
      fill_count_q <= fill_count_q + $bits(fill_count_q)'(b_fire && !b_nonzero)
                    - $bits(fill_count_q)'(fill_we && fill_done_q == seg_rows - 16'd1);
    end
  end

  always_ff @(posedge clk_i) begin
    if (data_valid_i && !bm_phase) asm_q <= asm_now;
  end

  logic row_we;
  assign row_we   = data_we || fill_we;
  assign in_we_o  = row_we && (target_q == 2'd0);
  assign in_zero_o = zb_q && !data_we;
  assign w_we_o   = data_we && (target_q == 2'd1);
  assign p_we_o   = data_we && (target_q == 2'd2);
  always_comb begin
    if (!zb_q) begin
      row_o      = row_q;
      row_data_o = asm_now;
    end else if (data_we) begin
      row_o      = data_row_q[data_rd_q] + RowAddrWidth'(seg_rows_done_q);
      row_data_o = asm_now;
    end else begin
      row_o      = fill_row_q[fill_rd_q] + RowAddrWidth'(fill_done_q);
      row_data_o = {(WMax){zp_q}};
    end
  end
endmodule
